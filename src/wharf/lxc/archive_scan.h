// Reads LXC's two tarballs after their bytes were verified: rootfs.tar.xz (or .tar.zst) and
// meta.tar.xz are decompressed by a PackedFile (xz or zstd, told by their first bytes, held to
// content::UnpackLimits as they are read) and read as tar with libarchive, without extracting
// anything.
//
// Both refuse archives that could write outside the directory they are unpacked into: an
// entry (or a hard link's target) that is absolute or has a ".." component, or that lies
// under a symbolic link an earlier entry created ("etc -> /etc", then "etc/passwd").
// A broken archive (not xz or zstd, corrupt or truncated data, not a tar) is DataLoss naming
// the file; a limit passed is TooLarge, a cancel Cancelled. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/content/unpack_limits.h"

namespace wharf::lxc {

// An entry path may be unpacked under a directory: relative, no ".." component.
bool IsSafeEntryPath(std::string_view path);

struct RootfsSummary {
  int64_t unpacked_size = 0;  // bytes of the regular files the archive holds, as they claim
  int64_t entries = 0;
  std::string label;  // "rootfs.tar.xz" or "rootfs.tar.zst", by what the file holds
};

struct ScanOptions {
  // The decompressed stream, and the sum of the files' sizes (a sparse file counts its
  // whole length), against max_bytes (TooLarge naming downloads.max_unpacked_bytes).
  content::UnpackLimits limits;
  // lxc.allow_special_files: device nodes, FIFOs, sockets and setuid or setgid files (not
  // directories) pass. Otherwise the first one is PermissionDenied naming the entry, its kind
  // and the key.
  bool allow_special_files = false;
};

// Scans a rootfs tarball (xz or zstd). DataLoss when it is broken, holds no entry, or has an
// unsafe entry; TooLarge past a limit; PermissionDenied for a special file.
Result<RootfsSummary> ScanRootfs(const std::filesystem::path& file,
                                 const ScanOptions& options = {});

struct MetaFile {
  std::string path;  // relative, normalised ("config", "templates", "dir/file")
  bool is_dir = false;
  unsigned mode = 0644;
  std::string data;
};

// Reads a meta.tar.xz: its directories and regular files (at most `max_bytes` in all).
// DataLoss when it is broken, has an unsafe entry or an entry of another kind (links,
// devices), or lacks the file "config" that lxc-create needs.
Result<std::vector<MetaFile>> ReadMeta(const std::filesystem::path& tar_xz,
                                       int64_t max_bytes = 16 << 20);

}  // namespace wharf::lxc
