// Reads the decompressed bytes of an LXC tarball on disk in pieces: xz (liblzma, concatenated
// streams) or zstd (libzstd, concatenated and skippable frames, windows up to 2 GiB), told by
// the file's first bytes (distrobuilder writes rootfs.tar.xz, or rootfs.tar.zst with
// --compression=zstd). The output is held to content::UnpackLimits as it is produced: its size,
// its ratio to the bytes read, a cancel polled every few MiB.
// Errors: DataLoss "LABEL is broken: <why>" (not xz or zstd, corrupt, truncated), TooLarge and
// Cancelled from the limits (content::UnpackMeter), errno errors for I/O. The first error ends
// the file: later reads repeat it. Not thread-safe; one reader per file.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "wharf/base/status.h"
#include "wharf/content/unpack_limits.h"

namespace wharf::lxc {

class PackedFile {
 public:
  // `stem` names the file in messages with the format's extension added ("rootfs.tar" →
  // "rootfs.tar.xz" or "rootfs.tar.zst").
  PackedFile(content::UnpackLimits limits, std::string stem);
  ~PackedFile();
  PackedFile(const PackedFile&) = delete;
  PackedFile& operator=(const PackedFile&) = delete;

  // Opens the file and tells its format.
  Result<void> Open(const std::filesystem::path& path);
  // The next decompressed piece, valid until the next call; empty once the data has ended.
  Result<std::string_view> Read();
  // "rootfs.tar.xz", "rootfs.tar.zst"; the stem until Open() told the format.
  const std::string& label() const { return label_; }
  // "xz" or "zstd" once opened.
  const std::string& format() const { return format_; }

 private:
  struct Codec;
  Error Fail(Status status);

  content::UnpackLimits limits_;
  std::optional<content::UnpackMeter> meter_;  // made once the label is known
  std::string label_;
  std::string format_;
  std::unique_ptr<Codec> codec_;
  Status failure_;
};

}  // namespace wharf::lxc
