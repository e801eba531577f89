// oci::ParseIndex, ChoosePlatform and ParsePlatform. Input: "os/arch[/variant]\nbody": the
// platform wanted, then an OCI index or Docker manifest list.
#include "fuzz_input.h"
#include "wharf/oci/image.h"

using namespace wharf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [platform_text, body] = fuzz::SplitFirstLine(fuzz::AsText(data, size));
  auto want = oci::ParsePlatform(platform_text);
  if (want) {
    fuzz::Require(oci::Matches(*want, *want));
    (void)want->String();
  }
  if (auto index = oci::ParseIndex(body)) {
    auto chosen = oci::ChoosePlatform(*index, want ? *want : oci::Platform{"linux", "amd64", ""});
    if (chosen) fuzz::Require(chosen->platform.has_value());
  }
  return 0;
}
