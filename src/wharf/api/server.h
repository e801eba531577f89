// The HTTP API: the Container Station image routes, login sessions, and error mapping, over
// the HTTP server of http_server.h. Every error answer is {"error": {"code": N, "message":
// "..."}} with HTTP status N. Every route other than login and /healthz requires a live
// session cookie (401 otherwise).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "wharf/api/distribution.h"
#include "wharf/api/http_server.h"
#include "wharf/base/clock.h"
#include "wharf/base/status.h"
#include "wharf/depot/depots.h"
#include "wharf/service/auth.h"
#include "wharf/service/downloads.h"
#include "wharf/service/events.h"
#include "wharf/service/imports.h"
#include "wharf/service/local_images.h"
#include "wharf/service/registries.h"
#include "wharf/service/remote_images.h"
#include "wharf/service/updates.h"

namespace wharf::api {

struct ServerOptions {
  int64_t session_ttl_s = 86400;              // cookie Max-Age
  std::filesystem::path share_dir = "share";  // the web page (web/) and icons (icons/)
  // Host header values (without the port) accepted; empty = any. A defence against DNS
  // rebinding for a wharfd reachable under a LAN name: a page of another site whose name
  // was pointed at wharfd's address still sends its own name as Host.
  std::vector<std::string> allowed_hosts;
  size_t max_event_streams = 256;         // open at once; more get 429
  size_t max_event_streams_per_user = 8;  // likewise, per user
  int upstream_timeout_s = 30;            // a registry call made for a request, in total
  HttpServerOptions http;                 // connections, deadlines, limits, TLS
  DistributionOptions serve;              // the Distribution API on /v2/ ([serve])
  // The time the login throttle counts failures and delays in; tests pass a FakeClock.
  // Never null; it must outlive the server.
  Clock* clock = &Clock::Default();
};

// What the API serves, built once by the daemon; every part outlives the server.
struct Services {
  service::LocalImages& local;
  service::RemoteImages& remote;
  service::Downloads& downloads;
  service::Auth& auth;
  depot::Depots& depots;
  service::EventBus& events;
  serve::ServedImages* served = nullptr;      // what /v2/ serves; null: /v2/ is off
  service::Imports* imports = nullptr;        // archive imports; null: they are off
  service::Updates* updates = nullptr;        // update checks; null: they are off
  service::Registries* registries = nullptr;  // registry settings; null: they are off
};

// Requests under /v2/ are the Distribution API's (distribution.h), with its own
// authentication and error shape. Every route other than login, /healthz, /metrics and the
// page's static files needs a live
// session; downloads, deletes, cancels and changes of the registry settings need an admin
// session (403 otherwise). A request
// that changes state and carries an Origin of another site is refused (403). Failed logins
// are throttled per user and per address (429 with Retry-After). Logins, downloads, deletes
// and cancels are written to the log as "audit:" lines (who, what, from where), their fields
// escaped and bounded. A path or query parameter that is not UTF-8 is a 400 naming it; a
// path with a NUL byte is a 404.
class Server {
 public:
  // InvalidArgument if the TLS certificate or key cannot be loaded.
  static Result<std::unique_ptr<Server>> Create(ServerOptions options, Services services);
  ~Server();

  // Binds host:port (port 0 = any free port). Returns the bound port.
  Result<int> Bind(const std::string& host, int port);
  // Serves until Stop(). Call after Bind().
  Result<void> Serve();
  // Stops Serve() from any thread (signal handlers must not call this directly).
  void Stop();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wharf::api
