// The request parsing in front of every route: api::ParseTarget (path and query decoding),
// MatchRoute and IsPublic, CheckUtf8, and CookieValue. Input: "METHOD\ntarget".
#include "fuzz_input.h"
#include "wharf/api/http_message.h"
#include "wharf/api/request_params.h"
#include "wharf/api/router.h"
#include "wharf/base/utf8.h"

using namespace wharf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [method, target] = fuzz::SplitFirstLine(fuzz::AsText(data, size));
  api::HttpRequest req;
  req.method = std::string(method);
  api::ParseTarget(target, req.path, req.params);
  fuzz::Require(req.path.size() <= target.size());  // decoding never grows the text
  api::RouteMatch m = api::MatchRoute(method, req.path);
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
  if (api::CheckUtf8(req, m)) {
    fuzz::Require(ValidUtf8(req.path));
    for (const auto& [name, value] : req.params) fuzz::Require(ValidUtf8(name) && ValidUtf8(value));
  }
  std::string cookie = api::CookieValue(target, "wharf_session");
  fuzz::Require(target.find(cookie) != std::string_view::npos);
  return 0;
}
