// lxc::FindSimplestreamsBuild over a simplestreams products file.
// Input: "os;release;arch;variant;serial\njson": the query, then the products file.
#include "fuzz_input.h"
#include "wharf/lxc/simplestreams.h"

using namespace wharf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [line, json] = fuzz::SplitFirstLine(fuzz::AsText(data, size));
  auto f = fuzz::SplitFields(line, ';', 5);
  if (auto build = lxc::FindSimplestreamsBuild(json, {f[0], f[1], f[2], f[3], f[4]})) {
    fuzz::Require(build->rootfs.sha256.size() == 64);
    fuzz::Require(build->dir.empty() || build->dir.ends_with('/'));
  }
  return 0;
}
