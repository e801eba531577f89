// The settings routes of the API (users, disk usage), their JSON shapes and who may call them:
//   GET    /api/v1/users                 admin: [{"username", "admin"}]
//   POST   /api/v1/users                 admin: {"username", "password", "admin"} → the user
//   DELETE /api/v1/users/NAME            admin; 409 for the last admin
//   PUT    /api/v1/users/NAME/password   {"password"} (admin, any user) or {"current_password",
//                                        "password"} (a user, their own); ends NAME's sessions
//   GET    /api/v1/system/df             any user: see service/disk_usage.h
// Passwords are never in an answer. Internal to the api module.
#pragma once

#include "wharf/api/http_message.h"
#include "wharf/api/router.h"
#include "wharf/base/status.h"
#include "wharf/service/auth.h"
#include "wharf/service/local_images.h"

namespace wharf::api {

// Whether `session` may call `route` (the users routes; others: true).
bool MayManage(const Route& route, const service::Session& session);
// The answer of a users route; `session` is who asks.
Result<HttpResponse> UsersRoute(const Route& route, const service::Session& session,
                                const HttpRequest& req, service::Auth& auth);
Result<HttpResponse> DiskUsageRoute(service::LocalImages& local);

}  // namespace wharf::api
