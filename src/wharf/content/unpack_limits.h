// Bounds on what decompressing one download may produce (a decompression bomb: a 329 KB zstd
// stream of 10 GiB, a 1 MB xz rootfs of 4 GiB), checked as the stream is read, never after:
//   max_bytes   the unpacked bytes of one stream (a layer, an LXC rootfs; for an LXC rootfs
//               also the sum of its entries' sizes, which a sparse file inflates without a
//               byte of data)
//   max_ratio   unpacked bytes per compressed byte read so far, once the output is past
//               `ratio_free_bytes`: real layers and rootfs tarballs unpack to 2-10 times their
//               size (20 for text-heavy ones); only long runs of one byte or repeated blocks
//               reach 100, and deflate's ceiling is about 1032, zstd's far higher. The first
//               MiBs are free because small tarballs are mostly zero padding.
// Also where a long decompression notices a cancel: `cancelled` is polled every
// kCancelPollBytes of output, so a stop cuts a bomb's inflate within a few milliseconds of
// CPU, not only between two pieces of input. Not thread-safe; one meter per stream.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "wharf/base/status.h"

namespace wharf::content {

struct UnpackLimits {
  uint64_t max_bytes = uint64_t{64} << 30;         // [downloads] max_unpacked_bytes
  uint64_t max_ratio = 100;                        // [downloads] max_unpack_ratio; 0 = none
  uint64_t ratio_free_bytes = uint64_t{32} << 20;  // output never held to the ratio
  std::function<bool()> cancelled;                 // may be empty
};

constexpr uint64_t kCancelPollBytes = uint64_t{16} << 20;

class UnpackMeter {
 public:
  // `what` names the stream in messages ("layer sha256:...", "rootfs.tar.xz").
  UnpackMeter(UnpackLimits limits, std::string what);

  // The totals so far: `compressed` bytes read, `unpacked` bytes they gave. TooLarge
  // "WHAT unpacks to over N bytes (downloads.max_unpacked_bytes)" or "WHAT unpacks to over R
  // times its compressed size (U bytes from C; downloads.max_unpack_ratio)"; Cancelled
  // "download stopped" when `cancelled` says so.
  Result<void> Check(uint64_t compressed, uint64_t unpacked);

  // The same bound on a sum that is not a stream's output (the sizes a tar's entries claim).
  Result<void> CheckDeclared(uint64_t declared, std::string_view of) const;

  const UnpackLimits& limits() const { return limits_; }

 private:
  UnpackLimits limits_;
  std::string what_;
  uint64_t next_poll_ = kCancelPollBytes;
};

}  // namespace wharf::content
