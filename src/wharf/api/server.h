// The HTTP API: the Container Station image routes, login sessions, and error mapping.
// Every error answer is {"error": {"code": N, "message": "..."}} with HTTP status N. Every
// route other than login and /healthz requires a live session cookie (401 otherwise).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "wharf/base/status.h"
#include "wharf/depot/depots.h"
#include "wharf/pull/event_bus.h"
#include "wharf/service/auth.h"
#include "wharf/service/image_service.h"

namespace wharf::api {

struct ServerOptions {
  int64_t session_ttl_s = 86400;        // cookie Max-Age
  size_t max_body_bytes = 1 << 20;      // larger request bodies get 413
  int read_timeout_s = 10;              // a client that stalls this long is dropped
  int write_timeout_s = 30;
  size_t max_connections = 256;         // open at once; more are answered 503 and closed
  std::filesystem::path share_dir = "share";  // the web page (web/) and icons (icons/)
  std::string tls_cert;  // PEM files; both set = serve HTTPS (and mark the cookie Secure)
  std::string tls_key;
};

// Every route other than login, /healthz, /metrics and the page's static files needs a live
// session; downloads, deletes and cancels need an admin session (403 otherwise). A request
// that changes state and carries an Origin of another site is refused (403). Failed logins
// are throttled per user and per address (429 with Retry-After). Logins, downloads, deletes
// and cancels are written to the log as "audit:" lines (who, what, from where).
class Server {
 public:
  // InvalidArgument if the TLS certificate or key cannot be loaded.
  static Result<std::unique_ptr<Server>> Create(ServerOptions options,
                                                service::ImageService& images,
                                                service::Auth& auth, depot::Depots& depots,
                                                pull::EventBus& events);
  Server(ServerOptions options, service::ImageService& images, service::Auth& auth,
         depot::Depots& depots, pull::EventBus& events);
  ~Server();

  // Binds host:port (port 0 = any free port). Returns the bound port.
  Result<int> Bind(const std::string& host, int port);
  // Serves until Stop(). Call after Bind().
  Result<void> Serve();
  // Stops Serve() from any thread (signal handlers must not call this directly).
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wharf::api
