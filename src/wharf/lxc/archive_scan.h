// Reads LXC's two tarballs after their bytes were verified: rootfs.tar.xz and meta.tar.xz are
// decompressed with liblzma and read as tar with libarchive, without extracting anything.
//
// Both refuse archives that could write outside the directory they are unpacked into: an
// entry (or a hard link's target) that is absolute or has a ".." component, or that lies
// under a symbolic link an earlier entry created ("etc -> /etc", then "etc/passwd").
// A broken archive (not xz, corrupt or truncated data, not a tar) is DataLoss naming the
// file. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/base/status.h"

namespace wharf::lxc {

// An entry path may be unpacked under a directory: relative, no ".." component.
bool IsSafeEntryPath(std::string_view path);

struct RootfsSummary {
  int64_t unpacked_size = 0;  // bytes of the regular files the archive holds
  int64_t entries = 0;
};

// Scans a rootfs.tar.xz. DataLoss when it is broken, holds no entry, or has an unsafe entry.
Result<RootfsSummary> ScanRootfs(const std::filesystem::path& tar_xz);

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
