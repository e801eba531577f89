// api::MatchRoute and IsPublic. Input: "METHOD\npath". (Query strings are parsed by
// cpp-httplib, not by wharf code, so there is no query parser of ours to fuzz.)
#include "fuzz_input.h"
#include "wharf/api/router.h"

using namespace wharf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [method, path] = fuzz::SplitFirstLine(fuzz::AsText(data, size));
  api::RouteMatch m = api::MatchRoute(method, path);
  switch (m.kind) {
    case api::RouteMatch::kFound:
      (void)api::IsPublic(m.route.id);
      break;
    case api::RouteMatch::kWrongMethod:
      fuzz::Require(!m.allow.empty() && m.allow != method);
      break;
    case api::RouteMatch::kNoRoute:
      break;
  }
  return 0;
}
