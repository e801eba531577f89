// oci::ClassifyManifest and oci::ParseManifest. Input: "content-type\nbody".
#include "fuzz_input.h"
#include "wharf/oci/image.h"

using namespace wharf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [content_type, body] = fuzz::SplitFirstLine(fuzz::AsText(data, size));
  (void)oci::ClassifyManifest(content_type, body);
  if (auto manifest = oci::ParseManifest(body)) {
    fuzz::Require(!manifest->config.digest.empty());
    for (const oci::Descriptor& layer : manifest->layers) {
      fuzz::Require(!layer.digest.empty());
      (void)oci::LayerCompression(layer.media_type);
    }
  }
  return 0;
}
