#include "wharf/api/registry_routes.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "wharf/api/request_params.h"
#include "wharf/api/views.h"

namespace wharf::api {

namespace {

nlohmann::json EntryJson(const service::RegistryView& v) {
  return {{"host", v.host},
          {"insecure", v.insecure},
          {"ca", v.ca},
          {"credentials", v.credentials},
          {"username", v.username},
          {"source", v.source}};
}

nlohmann::json MirrorsJson(const std::vector<service::MirrorView>& mirrors) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : mirrors) out.push_back({{"url", m.url}, {"source", m.source}});
  return {{"mirrors", out}};
}

Result<service::RegistrySettings> SettingsOf(const std::string& text) {
  WHARF_ASSIGN_OR_RETURN(auto body, JsonBody(text));
  static constexpr const char* kKeys[] = {"insecure", "ca_pem", "username", "password"};
  for (const auto& [key, value] : body.items()) {
    if (std::ranges::find(kKeys, key) == std::end(kKeys)) {
      return InvalidArgument(key + ": unknown field (insecure, ca_pem, username, password)");
    }
  }
  service::RegistrySettings s;
  if (body.contains("insecure") && !body["insecure"].is_null()) {
    if (!body["insecure"].is_boolean()) return InvalidArgument("insecure: expected true or false");
    s.insecure = body["insecure"].get<bool>();
  }
  WHARF_ASSIGN_OR_RETURN(s.ca_pem, OptionalString(body, "ca_pem"));
  WHARF_ASSIGN_OR_RETURN(s.username, OptionalString(body, "username"));
  if (body.contains("password") && !body["password"].is_null()) {
    WHARF_ASSIGN_OR_RETURN(s.password, OptionalString(body, "password"));
  }
  return s;
}

Result<std::vector<std::string>> MirrorsOf(const std::string& text) {
  WHARF_ASSIGN_OR_RETURN(auto body, JsonBody(text));
  if (!body.contains("mirrors") || !body["mirrors"].is_array()) {
    return InvalidArgument("mirrors: expected an array of URLs");
  }
  std::vector<std::string> urls;
  for (const auto& item : body["mirrors"]) {
    if (!item.is_string()) {
      return InvalidArgument("mirrors[" + std::to_string(urls.size()) + "]: expected a string");
    }
    urls.push_back(item.get<std::string>());
  }
  return urls;
}

}  // namespace

bool IsRegistryWrite(RouteId id) {
  return id == RouteId::kRegistryPut || id == RouteId::kRegistryRemove ||
         id == RouteId::kRegistryTest || id == RouteId::kMirrorsPut;
}

Result<HttpResponse> RegistryRoute(const Route& route, const HttpRequest& req,
                                   service::Registries* registries,
                                   const std::function<bool()>& cancelled) {
  if (registries == nullptr) return NotFound("registry settings are off on this server");
  switch (route.id) {
    case RouteId::kRegistries: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& v : registries->List()) out.push_back(EntryJson(v));
      return JsonAnswer(200, out);
    }
    case RouteId::kRegistryPut: {
      WHARF_ASSIGN_OR_RETURN(auto settings, SettingsOf(req.body));
      WHARF_ASSIGN_OR_RETURN(auto view, registries->Put(route.name, settings));
      return JsonAnswer(200, EntryJson(view));
    }
    case RouteId::kRegistryRemove:
      WHARF_RETURN_IF_ERROR(registries->Remove(route.name));
      return JsonAnswer(200, nlohmann::json::object());
    case RouteId::kRegistryTest: {
      WHARF_ASSIGN_OR_RETURN(auto body, JsonBody(req.body));
      WHARF_ASSIGN_OR_RETURN(auto repository, OptionalString(body, "repository"));
      WHARF_ASSIGN_OR_RETURN(auto report, registries->Test(route.name, repository, cancelled));
      nlohmann::json steps = nlohmann::json::array();
      for (const auto& s : report.steps) {
        steps.push_back({{"step", s.step}, {"ok", s.ok}, {"message", s.message}});
      }
      return JsonAnswer(200, {{"ok", report.ok}, {"steps", steps}});
    }
    case RouteId::kMirrors:
      return JsonAnswer(200, MirrorsJson(registries->Mirrors()));
    case RouteId::kMirrorsPut: {
      WHARF_ASSIGN_OR_RETURN(auto urls, MirrorsOf(req.body));
      WHARF_ASSIGN_OR_RETURN(auto mirrors, registries->SetMirrors(urls));
      return JsonAnswer(200, MirrorsJson(mirrors));
    }
    default:
      return Internal("unhandled registries route");
  }
}

}  // namespace wharf::api
