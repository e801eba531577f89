// Sha256's SHA-NI engine (where the CPU has it) against OpenSSL's. Input: one byte seeding
// how the data is cut into Update and UpdateCopy calls, then the data. Both engines must give
// the same digest, Peek must agree with it midway, and every copy must equal its source.
#include <random>
#include <string>

#include "fuzz_input.h"
#include "wharf/base/digest.h"

using namespace wharf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::minstd_rand cuts(data[0]);
  const std::string_view input = fuzz::AsText(data + 1, size - 1);

  Sha256 reference(Sha256::Engine::kOpenSsl);
  reference.Update(input);
  const Digest want = reference.Finish();

  Sha256 tested;
  std::string copy(input.size(), '\0');
  size_t at = 0;
  for (bool copying = false; at < input.size(); copying = !copying) {
    size_t n = std::min<size_t>(input.size() - at, cuts() % 200);
    if (copying) {
      tested.UpdateCopy(input.data() + at, n, copy.data() + at);
      fuzz::Require(std::string_view(copy).substr(at, n) == input.substr(at, n));
    } else {
      tested.Update(input.data() + at, n);
    }
    at += n;
    if (at * 2 >= input.size() && at * 2 < input.size() + 200) {
      fuzz::Require(tested.Peek() == Digest::Of(input.substr(0, at)));
    }
  }
  fuzz::Require(tested.Finish() == want);
  return 0;
}
