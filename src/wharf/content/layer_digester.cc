#include "wharf/content/layer_digester.h"

#include <limits>
#include <string>
#include <utility>

#include "wharf/content/decompressor.h"

namespace wharf::content {

// The decompressor hands its output straight to the hash: pieces of igzip's or libzstd's
// output buffer, or stored deflate blocks where they lie in the input.
struct LayerDigester::Impl {
  Sha256 hash;
  UnpackMeter meter;
  StreamDecompressor decompressor;

  Impl(oci::Compression compression, UnpackLimits limits, std::string what)
      : meter(std::move(limits), std::move(what)),
        decompressor(
            [this](std::string_view piece) -> Result<void> {
              hash.Update(piece.data(), piece.size());
              return meter.Check(decompressor.input(), decompressor.output());
            },
            std::numeric_limits<uint64_t>::max(), compression) {}
};

namespace {

// The decompressor's InvalidArgument (the bytes are not what the media type says) is a layer
// that does not match its descriptor here.
Error AsDataLoss(const Status& status) {
  if (status.code != Code::kInvalidArgument) return Error(status);
  return DataLoss(status.message);
}

}  // namespace

LayerDigester::LayerDigester(oci::Compression compression, UnpackLimits limits, std::string what)
    : impl_(std::make_unique<Impl>(compression, std::move(limits), std::move(what))) {}

LayerDigester::~LayerDigester() = default;

Result<void> LayerDigester::Update(const void* data, size_t n) {
  auto fed = impl_->decompressor.Feed(std::string_view(static_cast<const char*>(data), n));
  if (!fed) return AsDataLoss(fed.error());
  return {};
}

Result<LayerDigester::Output> LayerDigester::Finish() {
  if (auto done = impl_->decompressor.Finish(); !done) return AsDataLoss(done.error());
  return Output{impl_->hash.Finish(), static_cast<int64_t>(impl_->decompressor.output())};
}

}  // namespace wharf::content
