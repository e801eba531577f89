// The tar framing of a docker-archive: POSIX ustar headers as Docker, podman and Go's
// archive/tar read them. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "wharf/base/status.h"

namespace wharf::archive {

inline constexpr int64_t kTarBlock = 512;

enum class TarEntry { kFile, kDirectory };

// One 512-byte header: mode 0644 (files) or 0755 (directories), owner 0:0, mtime 0 (the
// archive of an image is the same bytes every time). Sizes from 8 GiB on are written in
// base-256, the GNU form that Go's archive/tar and GNU tar read. InvalidArgument when the
// name does not fit ustar's 100 bytes or the size is negative.
Result<std::string> TarHeader(std::string_view name, int64_t size, TarEntry type);

// Zero bytes that follow `size` bytes of content up to the next block.
inline int64_t TarPadding(int64_t size) { return (kTarBlock - size % kTarBlock) % kTarBlock; }

// The end of an archive: two zero blocks.
inline constexpr int64_t kTarTrailer = 2 * kTarBlock;

}  // namespace wharf::archive
