// Computes a layer's diff_id (sha256 of the uncompressed tar) and uncompressed size from its
// compressed bytes as they stream in, decompressed by a StreamDecompressor of the compression
// the media type names (decompressor.h: igzip for gzip, stored blocks hashed where they lie in
// the input, every member's CRC-32 and size checked; libzstd; uncompressed layers pass
// through). Not thread-safe; one per layer.
#pragma once

#include <cstdint>
#include <memory>

#include "wharf/base/digest.h"
#include "wharf/base/status.h"
#include "wharf/oci/image.h"

namespace wharf::content {

class LayerDigester {
 public:
  explicit LayerDigester(oci::Compression compression);
  ~LayerDigester();
  LayerDigester(const LayerDigester&) = delete;
  LayerDigester& operator=(const LayerDigester&) = delete;

  // Feeds compressed bytes. DataLoss on a corrupt stream.
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
