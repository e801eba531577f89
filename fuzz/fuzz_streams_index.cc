// lxc::ParseStreamsIndex over a simplestreams streams/v1/index.json. Input: that JSON.
#include "fuzz_input.h"
#include "wharf/lxc/simplestreams.h"

using namespace wharf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (auto paths = lxc::ParseStreamsIndex(fuzz::AsText(data, size))) {
    for (const std::string& p : *paths) fuzz::Require(lxc::IsSafeServerPath(p, false));
  }
  return 0;
}
