#include "wharf/api/request_params.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "wharf/base/strings.h"
#include "wharf/base/utf8.h"

namespace wharf::api {

Result<std::string> DepotParam(const HttpRequest& req) {
  const bool from = req.HasParam("from");
  std::string depot = from                       ? req.Param("from")
                      : req.HasParam("category") ? req.Param("category")
                                                 : "local";
  static const std::set<std::string> kDepots = {"local", "qnap", "appcenter", "official",
                                                "dockerhub"};
  if (!kDepots.contains(depot)) {
    return InvalidArgument(std::string(from ? "from" : "category") +
                           " must be one of local, appcenter, qnap, official, dockerhub; got \"" +
                           depot + "\"");
  }
  return depot;
}

Result<std::string> TypeParam(const std::string& type, const char* param) {
  if (type.empty() || type == "docker" || type == "lxc") return type;
  return InvalidArgument(std::string(param) + " must be lxc, docker or empty; got \"" + type +
                         "\"");
}

Result<int64_t> PositiveParam(const std::string& text, const char* name, int64_t max) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 1 || value > max) {
    return InvalidArgument(std::string(name) + " must be an integer from 1 to " +
                           std::to_string(max) + "; got \"" + text + "\"");
  }
  return value;
}

Result<nlohmann::json> JsonBody(const std::string& text) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
  auto body = nlohmann::json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return InvalidArgument("request body must be a JSON object");
  }
  return body;
}

Result<std::string> OptionalString(const nlohmann::json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) return InvalidArgument(std::string(key) + " must be a string");
  return it->get<std::string>();
}

Result<std::pair<std::string, std::string>> Credentials(const HttpRequest& req) {
  if (req.HasParam("username") || req.HasParam("password")) {
    return InvalidArgument(
        "username and password go in the request body, not in the URL (which logs and "
        "histories keep)");
  }
  auto json = nlohmann::json::parse(req.body, nullptr, false);
  if (json.is_object()) {
    WHARF_ASSIGN_OR_RETURN(auto user, OptionalString(json, "username"));
    WHARF_ASSIGN_OR_RETURN(auto password, OptionalString(json, "password"));
    return std::pair{user, password};
  }
  HttpRequest form;
  form.params = ParseQuery(req.body);
  return std::pair{form.Param("username"), form.Param("password")};
}

Result<void> CheckUtf8(const HttpRequest& req, const RouteMatch& match) {
  for (const auto& [name, value] : req.params) {
    if (!ValidUtf8(name)) return InvalidArgument("a query parameter name is not valid UTF-8");
    if (!ValidUtf8(value)) {
      return InvalidArgument("query parameter " + name + " is not valid UTF-8");
    }
  }
  if (ValidUtf8(req.path)) return {};
  if (match.kind == RouteMatch::kFound) {
    const Route& r = match.route;
    for (auto [part, value] : {std::pair{"depot", &r.source}, std::pair{"image_type", &r.type},
                               std::pair{"image_name", &r.name}, std::pair{"tag", &r.tag},
                               std::pair{"is_official", &r.official}}) {
      if (!ValidUtf8(*value)) return InvalidArgument(std::string(part) + " is not valid UTF-8");
    }
  }
  return InvalidArgument("the path is not valid UTF-8");
}

bool HostAllowed(const HttpRequest& req, const std::vector<std::string>& allowed) {
  if (allowed.empty()) return true;
  std::string host = req.HeaderOr("host");
  if (host.starts_with('[')) {  // [::1]:8080
    host = host.substr(0, host.find(']') + 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string::npos) {
    host.resize(colon);
  }
  return std::ranges::any_of(allowed,
                             [&](const std::string& a) { return EqualsIgnoreCase(a, host); });
}

const char* RouteName(RouteId id) {
  switch (id) {
    case RouteId::kLogin:
      return "login";
    case RouteId::kLoginRefresh:
      return "login_refresh";
    case RouteId::kLogout:
      return "logout";
    case RouteId::kHealth:
      return "healthz";
    case RouteId::kList:
      return "list";
    case RouteId::kDownloadStatus:
      return "downloadstatus";
    case RouteId::kInspect:
      return "inspect";
    case RouteId::kRemoteInspect:
      return "remote_inspect";
    case RouteId::kEngineState:
      return "engine";
    case RouteId::kExport:
    case RouteId::kExportMany:
      return "export";
    case RouteId::kTags:
      return "tags";
    case RouteId::kDownload:
      return "download";
    case RouteId::kDelete:
      return "delete";
    case RouteId::kCancel:
      return "cancel";
    case RouteId::kImport:
      return "import";
    case RouteId::kUpdates:
      return "updates";
    case RouteId::kUpdateCheck:
      return "update_check";
    case RouteId::kUsers:
      return "users";
    case RouteId::kUserAdd:
      return "user_add";
    case RouteId::kUserRemove:
      return "user_remove";
    case RouteId::kUserPassword:
      return "user_password";
    case RouteId::kRegistries:
      return "registries";
    case RouteId::kRegistryPut:
      return "registry_put";
    case RouteId::kRegistryRemove:
      return "registry_remove";
    case RouteId::kRegistryTest:
      return "registry_test";
    case RouteId::kMirrors:
      return "mirrors";
    case RouteId::kMirrorsPut:
      return "mirrors_put";
    case RouteId::kDiskUsage:
      return "df";
    case RouteId::kEvents:
      return "events";
    case RouteId::kMetrics:
      return "metrics";
    case RouteId::kStatic:
      return "static";
  }
  return "unknown";
}

}  // namespace wharf::api
