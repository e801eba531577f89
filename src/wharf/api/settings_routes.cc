#include "wharf/api/settings_routes.h"

#include <nlohmann/json.hpp>

#include "wharf/api/request_params.h"
#include "wharf/api/views.h"
#include "wharf/service/disk_usage.h"

namespace wharf::api {

namespace {

nlohmann::json UserJson(const std::string& name, bool admin) {
  return {{"username", name}, {"admin", admin}};
}

Result<bool> OptionalBool(const nlohmann::json& body, const char* key) {
  if (!body.contains(key)) return false;
  if (!body[key].is_boolean())
    return InvalidArgument(std::string(key) + ": expected true or false");
  return body[key].get<bool>();
}

}  // namespace

bool MayManage(const Route& route, const service::Session& session) {
  switch (route.id) {
    case RouteId::kUsers:
    case RouteId::kUserAdd:
    case RouteId::kUserRemove:
      return session.is_admin;
    case RouteId::kUserPassword:
      return session.is_admin || session.username == route.name;
    default:
      return true;
  }
}

Result<HttpResponse> UsersRoute(const Route& route, const service::Session& session,
                                const HttpRequest& req, service::Auth& auth) {
  switch (route.id) {
    case RouteId::kUsers: {
      WHARF_ASSIGN_OR_RETURN(auto users, auth.ListUsers());
      nlohmann::json out = nlohmann::json::array();
      for (const auto& u : users) out.push_back(UserJson(u.username, u.is_admin));
      return JsonAnswer(200, out);
    }
    case RouteId::kUserAdd: {
      WHARF_ASSIGN_OR_RETURN(auto body, JsonBody(req.body));
      WHARF_ASSIGN_OR_RETURN(auto name, OptionalString(body, "username"));
      WHARF_ASSIGN_OR_RETURN(auto password, OptionalString(body, "password"));
      WHARF_ASSIGN_OR_RETURN(bool admin, OptionalBool(body, "admin"));
      WHARF_RETURN_IF_ERROR(auth.AddUser(name, password, admin));
      return JsonAnswer(200, UserJson(name, admin));
    }
    case RouteId::kUserRemove:
      WHARF_RETURN_IF_ERROR(auth.RemoveUser(route.name));
      return JsonAnswer(200, nlohmann::json::object());
    case RouteId::kUserPassword: {
      WHARF_ASSIGN_OR_RETURN(auto body, JsonBody(req.body));
      WHARF_ASSIGN_OR_RETURN(auto password, OptionalString(body, "password"));
      if (!session.is_admin || body.contains("current_password")) {
        WHARF_ASSIGN_OR_RETURN(auto current, OptionalString(body, "current_password"));
        WHARF_RETURN_IF_ERROR(auth.ChangeOwnPassword(route.name, current, password));
      } else {
        WHARF_RETURN_IF_ERROR(service::Auth::CheckPassword(password));
        WHARF_RETURN_IF_ERROR(auth.ChangePassword(route.name, password));
      }
      return JsonAnswer(200, nlohmann::json::object());
    }
    default:
      return Internal("unhandled users route");
  }
}

Result<HttpResponse> DiskUsageRoute(service::LocalImages& local) {
  WHARF_ASSIGN_OR_RETURN(auto usage, service::MeasureDiskUsage(local));
  nlohmann::json images = nlohmann::json::array();
  for (const auto& u : usage.images) {
    images.push_back({{"type", u.type},
                      {"name", u.name},
                      {"tag", u.tag},
                      {"stored_bytes", u.stored_bytes},
                      {"unpacked_bytes", u.unpacked_bytes},
                      {"shared_bytes", u.shared_bytes},
                      {"unique_bytes", u.unique_bytes}});
  }
  return JsonAnswer(200, {{"total_bytes", usage.total_bytes},
                          {"unique_bytes", usage.unique_bytes},
                          {"shared_bytes", usage.shared_bytes},
                          {"unreferenced_bytes", usage.unreferenced_bytes},
                          {"partial_bytes", usage.partial_bytes},
                          {"images", images}});
}

}  // namespace wharf::api
