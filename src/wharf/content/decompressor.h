// Decompressing a stream as it arrives: a push decompressor that hands its output to a sink.
// The format is told by the caller or detected from the first bytes:
//   gzip (1f 8b)           one or more members back to back (pigz, `cat a.gz b.gz`), each
//                          member's CRC-32 and size checked. Inflated with ISA-L's igzip (2-3x
//                          zlib's speed), except stored (uncompressed) deflate blocks at the
//                          start of a member, which go to the sink straight from the input.
//   zstd (28 b5 2f fd, or  one or more frames, skippable frames skipped (libzstd), windows
//         a skippable frame)  up to 2 GiB (zstd --long=31), allocated as a frame needs them
//   xz, bzip2              detected and refused by name (InvalidArgument "xz-compressed
//                          archives are not supported: decompress it first, or use gzip or
//                          zstd"), never decoded
//   anything else          plain: the input goes to the sink as it is
// Errors are InvalidArgument (the input is not what it claims to be): "corrupt gzip stream:
// <why>", "corrupt zstd stream: <why>", "truncated gzip stream after N bytes", "truncated zstd
// stream after N bytes" (from Finish), "decompressed archive over N bytes" when the output
// would pass `max_output` (a decompression bomb; what the sink got stays under the limit).
// The first error, the sink's included (passed through as it is), stops the stream: every
// later Feed() or Finish() returns it again.
// Not thread-safe; one per stream. The sink is called only from Feed() and Finish(), with
// pieces that are valid only during the call; never with an empty piece.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "wharf/base/status.h"
#include "wharf/oci/image.h"

namespace wharf::content {

class StreamDecompressor {
 public:
  using Sink = std::function<Result<void>(std::string_view)>;

  // Detects the format from the first bytes.
  StreamDecompressor(Sink sink, uint64_t max_output);
  // Decodes `format` whatever the bytes say (a layer whose media type names its compression):
  // a gzip stream that does not start with a gzip header is corrupt.
  StreamDecompressor(Sink sink, uint64_t max_output, oci::Compression format);
  ~StreamDecompressor();
  StreamDecompressor(const StreamDecompressor&) = delete;
  StreamDecompressor& operator=(const StreamDecompressor&) = delete;

  // The next compressed bytes, in any split (empty is fine).
  Result<void> Feed(std::string_view bytes);
  // The stream ended: fails if it ended inside a gzip member or a zstd frame (an empty
  // compressed stream is truncated too; an empty plain stream is fine).
  Result<void> Finish();
  // The format: set from the start when it was given, else once enough bytes have come to
  // tell (at most 10), or at Finish(). kNone until then.
  oci::Compression format() const;
  // Whether format() is decided yet.
  bool detected() const;
  // Bytes handed to the sink so far.
  uint64_t output() const;
  // Compressed bytes fed so far.
  uint64_t input() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wharf::content
