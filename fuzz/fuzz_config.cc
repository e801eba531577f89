// oci::ParseConfig. Input: an image config JSON document.
#include "fuzz_input.h"
#include "wharf/oci/image.h"

using namespace wharf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (auto config = oci::ParseConfig(fuzz::AsText(data, size))) {
    for (const Digest& d : config->diff_ids) fuzz::Require(!d.empty());
  }
  return 0;
}
