// LXC's classic index (FindIndexBuild) and the SHA256SUMS parser.
// Input: "os;release;arch;variant;serial\ntext" (the query, then an index-system or SHA256SUMS).
#include "fuzz_input.h"
#include "wharf/lxc/index_system.h"

using namespace wharf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [line, text] = fuzz::SplitFirstLine(fuzz::AsText(data, size));
  auto f = fuzz::SplitFields(line, ';', 5);
  if (auto build = lxc::FindIndexBuild(text, {f[0], f[1], f[2], f[3], f[4]})) {
    fuzz::Require(!build->serial.empty());
    fuzz::Require(build->dir.ends_with('/'));
  }
  for (const auto& [name, hex] : lxc::ParseSha256Sums(text)) fuzz::Require(hex.size() == 64);
  return 0;
}
