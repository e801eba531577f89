// Maps a method and a (percent-decoded) path to one of the API's routes. Image names span
// several path segments ("/api/v1/image/docker/lgsd/diamond/latest/inspect"), so every route
// is recognised from its fixed ends and the name is what lies between. Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace wharf::api {

enum class RouteId {
  kLogin,           // POST /api/v1/login
  kLoginRefresh,    // GET  /api/v1/login_refresh
  kLogout,          // PUT  /api/v1/logout
  kHealth,          // GET  /healthz
  kList,            // GET  /api/v1/image/
  kDownloadStatus,  // GET  /api/v1/image/downloadstatus
  kInspect,         // GET  /api/v1/image/{type}/{name}/{tag}/inspect
  kRemoteInspect,   // GET  /api/v1/image/{type}/{name}/{tag}/remote_inspect
  kEngineState,     // GET  /api/v1/image/docker/{name}/{tag}/engine
  kExport,          // GET  /api/v1/image/{type}/{name}/{tag}/export
  kExportMany,      // GET  /api/v1/image/export?image=NAME:TAG&image=...
  kTags,            // GET  /api/v1/image/dockerhub/docker/{is_official}/{name}/tags
  kDownload,        // POST /api/v1/image/{from}/{type}/{name}/{tag}/download
  kDelete,          // DELETE /api/v1/image/{from}/{type}/{name}[:{tag}]
  kCancel,          // DELETE /api/v1/image/downloadstatus/{type}/{name}/{tag}
  kImport,          // POST /api/v1/image/import (an image archive as the body)
  kUpdates,         // GET  /api/v1/image/updates
  kUpdateCheck,     // POST /api/v1/image/updates/check
  kUsers,           // GET  /api/v1/users
  kUserAdd,         // POST /api/v1/users
  kUserRemove,      // DELETE /api/v1/users/{name}
  kUserPassword,    // PUT  /api/v1/users/{name}/password
  kDiskUsage,       // GET  /api/v1/system/df
  kRegistries,      // GET  /api/v1/registries
  kRegistryPut,     // PUT  /api/v1/registries/{host} (host in `name`)
  kRegistryRemove,  // DELETE /api/v1/registries/{host}
  kRegistryTest,    // POST /api/v1/registries/{host}/test
  kMirrors,         // GET  /api/v1/registries/docker.io/mirrors
  kMirrorsPut,      // PUT  /api/v1/registries/docker.io/mirrors
  kEvents,          // GET  /api/v1/events (Server-Sent Events)
  kMetrics,         // GET  /metrics (Prometheus text format)
  kStatic,          // GET  /, /web/..., /icons/... (the web page and its files)
};

struct Route {
  RouteId id = RouteId::kHealth;
  std::string source;  // depot segment: "dockerhub", "appcenter", "qnap", "local"
  std::string type;    // "docker" or "lxc" as written (validated by the handler)
  std::string name;    // segments between the fixed ends, joined with '/'
  std::string tag;
  std::string official;  // "0" or "1" (tags route)
};

struct RouteMatch {
  enum Kind { kFound, kNoRoute, kWrongMethod } kind = kNoRoute;
  Route route;
  std::string allow;  // for kWrongMethod: the method the path accepts
};

RouteMatch MatchRoute(std::string_view method, std::string_view path);

// Is a route served without a login session? Login, /healthz, /metrics (counters only, no
// image data) and the web page's static files (the login form must load).
bool IsPublic(RouteId id);

}  // namespace wharf::api
