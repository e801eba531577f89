// The registries routes of the API (service/registries.h), their JSON shapes and who may call
// them:
//   GET    /api/v1/registries                  any user: [entry], by host
//   PUT    /api/v1/registries/HOST             admin: {"insecure", "ca_pem", "username",
//                                              "password"} (each optional) → the entry
//   DELETE /api/v1/registries/HOST             admin → {}; 409 for a configuration entry
//   POST   /api/v1/registries/HOST/test        admin, optional {"repository"} → {"ok", "steps":
//                                              [{"step", "ok", "message"}]}
//   GET    /api/v1/registries/docker.io/mirrors  any user → {"mirrors": [{"url", "source"}]}
//   PUT    /api/v1/registries/docker.io/mirrors  admin: {"mirrors": ["URL", ...]} (the API's,
//                                              replacing them) → as GET
// An entry is {"host", "insecure", "ca", "credentials", "username", "source"} with "source"
// "config" or "api"; "ca" and "credentials" say whether they are set. Passwords are never in
// an answer. Internal to the api module.
#pragma once

#include <functional>

#include "wharf/api/http_message.h"
#include "wharf/api/router.h"
#include "wharf/base/status.h"
#include "wharf/service/registries.h"

namespace wharf::api {

// Whether a registries route changes settings (admin only).
bool IsRegistryWrite(RouteId id);
// The answer of a registries route. `registries` null: NotFound (the feature is off).
// `cancelled` cuts a test's transfers.
Result<HttpResponse> RegistryRoute(const Route& route, const HttpRequest& req,
                                   service::Registries* registries,
                                   const std::function<bool()>& cancelled);

}  // namespace wharf::api
