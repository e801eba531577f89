// registry::ParseWwwAuthenticate. Input: a WWW-Authenticate header value.
#include <cctype>

#include "fuzz_input.h"
#include "wharf/registry/client.h"

using namespace wharf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (const registry::Challenge& c : registry::ParseWwwAuthenticate(fuzz::AsText(data, size))) {
    // Schemes come back non-empty and lower-case, as the header contract says.
    fuzz::Require(!c.scheme.empty());
    for (char ch : c.scheme) fuzz::Require(!std::isupper(static_cast<unsigned char>(ch)));
  }
  return 0;
}
