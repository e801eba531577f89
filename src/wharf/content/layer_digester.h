// Computes a layer's diff_id (sha256 of the uncompressed tar) and uncompressed size from its
// compressed bytes as they stream in, decompressed by a StreamDecompressor of the compression
// the media type names (decompressor.h: igzip for gzip, stored blocks hashed where they lie in
// the input, every member's CRC-32 and size checked; libzstd; uncompressed layers pass
// through), held to UnpackLimits as it goes (unpack_limits.h: the unpacked size, the ratio to
// the compressed bytes, a cancel polled inside a long inflate). Not thread-safe; one per layer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "wharf/base/digest.h"
#include "wharf/base/status.h"
#include "wharf/content/unpack_limits.h"
#include "wharf/oci/image.h"

namespace wharf::content {

class LayerDigester {
 public:
  // `what` names the layer in the limits' messages ("layer sha256:...").
  explicit LayerDigester(oci::Compression compression, UnpackLimits limits = {},
                         std::string what = "the layer");
  ~LayerDigester();
  LayerDigester(const LayerDigester&) = delete;
  LayerDigester& operator=(const LayerDigester&) = delete;

  // Feeds compressed bytes. DataLoss on a corrupt stream; TooLarge past a limit and Cancelled
  // (UnpackMeter::Check), after which the stream is done: every later call repeats it.
  Result<void> Update(const void* data, size_t n);
  // Ends the stream. DataLoss if the compressed stream is truncated.
  struct Output {
    Digest diff_id;
    int64_t uncompressed_size = 0;
  };
  Result<Output> Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wharf::content
