#include "wharf/api/update_routes.h"

#include <nlohmann/json.hpp>

#include "wharf/api/request_params.h"
#include "wharf/api/views.h"

namespace wharf::api {

namespace {

HttpResponse ListAnswer(const std::vector<service::UpdateView>& views) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& v : views) {
    out.push_back({{"type", v.type},
                   {"name", v.name},
                   {"tag", v.tag},
                   {"update_available", v.update_available},
                   {"local_digest", v.local_digest},
                   {"remote_digest", v.remote_digest},
                   {"checked_at", v.checked_at > 0 ? nlohmann::json(v.checked_at) : nullptr},
                   {"error", v.error}});
  }
  return JsonAnswer(200, out);
}

}  // namespace

Result<HttpResponse> ListUpdates(service::Updates* updates) {
  if (updates == nullptr) return NotFound("update checks are off on this server");
  WHARF_ASSIGN_OR_RETURN(auto views, updates->List());
  return ListAnswer(views);
}

Result<HttpResponse> CheckUpdates(service::Updates* updates, const HttpRequest& req,
                                  const std::function<bool()>& cancelled) {
  if (updates == nullptr) return NotFound("update checks are off on this server");
  std::string type, name, tag;
  if (!req.body.empty()) {
    WHARF_ASSIGN_OR_RETURN(auto body, JsonBody(req.body));
    WHARF_ASSIGN_OR_RETURN(type, OptionalString(body, "type"));
    WHARF_ASSIGN_OR_RETURN(name, OptionalString(body, "name"));
    WHARF_ASSIGN_OR_RETURN(tag, OptionalString(body, "tag"));
    if (name.empty() && (!tag.empty() || !type.empty())) {
      return InvalidArgument("name: a check of one image needs its name");
    }
  }
  WHARF_ASSIGN_OR_RETURN(auto views, updates->Check(type, name, tag, cancelled));
  return ListAnswer(views);
}

}  // namespace wharf::api
