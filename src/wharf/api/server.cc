#include "wharf/api/server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

#include "wharf/api/connection_pool.h"
#include "wharf/api/handlers.h"
#include "wharf/api/listing.h"
#include "wharf/api/request_gate.h"
#include "wharf/api/router.h"
#include "wharf/api/views.h"
#include "wharf/base/file_util.h"
#include "wharf/service/login_throttle.h"

namespace wharf::api {

namespace {

constexpr std::string_view kCookieName = "wharf_session";
// Requests served on one kept-alive connection before it is closed (nginx keeps 1,000); the
// client reconnects and its connection queues again behind the others for a pool thread.
constexpr size_t kKeepAliveMaxRequests = 100;

void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void SendError(httplib::Response& res, const Status& error) {
  int status = HttpStatus(error.code);
  if (status >= 500) spdlog::error("request failed: {}", error.ToString());
  SendJson(res, status, ErrorView(status, error.message));
}

std::string SessionCookie(const httplib::Request& req) {
  std::string header = req.get_header_value("Cookie");
  std::string_view rest = header;
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    std::string_view part = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.starts_with(kCookieName) && part.size() > kCookieName.size() &&
        part[kCookieName.size()] == '=') {
      return std::string(part.substr(kCookieName.size() + 1));
    }
  }
  return {};
}

// The body of a request as a JSON object; an empty body is an empty object. curl's -d sends
// JSON with a form content type, so the content type is not trusted.
Result<nlohmann::json> JsonBody(const httplib::Request& req) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
  auto body = nlohmann::json::parse(req.body, nullptr, false);
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

// The depot asked for: `from` wins over `category`; default "local".
Result<std::string> DepotParam(const httplib::Request& req) {
  std::string depot = req.has_param("from")       ? req.get_param_value("from")
                      : req.has_param("category") ? req.get_param_value("category")
                                                  : "local";
  static const std::set<std::string> kDepots = {"local", "qnap", "appcenter", "official",
                                                "dockerhub"};
  if (!kDepots.contains(depot)) {
    return InvalidArgument(std::string(req.has_param("from") ? "from" : "category") +
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

const char* RouteName(RouteId id) {
  switch (id) {
    case RouteId::kLogin: return "login";
    case RouteId::kLoginRefresh: return "login_refresh";
    case RouteId::kLogout: return "logout";
    case RouteId::kHealth: return "healthz";
    case RouteId::kList: return "list";
    case RouteId::kDownloadStatus: return "downloadstatus";
    case RouteId::kInspect: return "inspect";
    case RouteId::kRemoteInspect: return "remote_inspect";
    case RouteId::kTags: return "tags";
    case RouteId::kDownload: return "download";
    case RouteId::kDelete: return "delete";
    case RouteId::kCancel: return "cancel";
    case RouteId::kEvents: return "events";
    case RouteId::kMetrics: return "metrics";
    case RouteId::kStatic: return "static";
  }
  return "unknown";
}

// Routes answered from wharfd's own memory and files, without waiting on another server:
// they go through the RequestGate. (The Docker Hub listing searches the registry.)
bool CpuOnly(RouteId id, const httplib::Request& req) {
  switch (id) {
    case RouteId::kHealth:
    case RouteId::kDownloadStatus:
    case RouteId::kInspect:
    case RouteId::kMetrics:
      return true;
    case RouteId::kList: {
      auto depot = DepotParam(req);
      return depot && *depot != "dockerhub";
    }
    default:
      return false;
  }
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  service::ImageService& images;
  service::Auth& auth;
  depot::Depots& depots;
  pull::EventBus& events;
  RequestCounts counts;
  service::LoginThrottle throttle;
  LocalListingCache local_listings;
  RequestGate gate{std::max(2u, std::thread::hardware_concurrency())};
  std::unique_ptr<httplib::Server> http;
  int listen_fd = -1;  // the listening socket, once bound

  Impl(ServerOptions o, service::ImageService& i, service::Auth& a, depot::Depots& d,
       pull::EventBus& e)
      : options(std::move(o)), images(i), auth(a), depots(d), events(e) {
    if (!options.tls_cert.empty()) {
      http = std::make_unique<httplib::SSLServer>(options.tls_cert.c_str(),
                                                  options.tls_key.c_str());
    } else {
      http = std::make_unique<httplib::Server>();
    }
  }

  std::string CookieAttributes() const {
    return std::string("; Path=/; HttpOnly; SameSite=Strict") +
           (options.tls_cert.empty() ? "" : "; Secure");
  }

  // A state-changing request from a page of another site (cross-site request forgery) is
  // refused; requests without Origin (curl, the CLI) and same-origin ones pass.
  static bool CrossSite(const httplib::Request& req) {
    if (req.method == "GET" || req.method == "HEAD" || !req.has_header("Origin")) return false;
    std::string origin = req.get_header_value("Origin");
    std::string host = req.get_header_value("Host");
    return origin != "http://" + host && origin != "https://" + host;
  }

  void Handle(const httplib::Request& req, httplib::Response& res) {
    RouteMatch m = MatchRoute(req.method, req.path);
    // The page uses no inline script and loads nothing from other hosts but catalog icons.
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; img-src 'self' http: https: data:; "
                   "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("X-Frame-Options", "DENY");
    HandleRoute(m, req, res);
    counts.Add(m.kind == RouteMatch::kFound ? RouteName(m.route.id) : "unknown", res.status);
  }

  void HandleRoute(const RouteMatch& m, const httplib::Request& req, httplib::Response& res) {
    if (m.kind == RouteMatch::kNoRoute) {
      SendJson(res, 404, ErrorView(404, "no such endpoint: " + req.path));
      return;
    }
    if (m.kind == RouteMatch::kWrongMethod) {
      res.set_header("Allow", m.allow);
      SendJson(res, 405, ErrorView(405, "method " + req.method + " not allowed; use " + m.allow));
      return;
    }
    if (CrossSite(req)) {
      SendJson(res, 403, ErrorView(403, "cross-site request refused (Origin " +
                                            req.get_header_value("Origin") + ")"));
      return;
    }
    std::optional<RequestGate::Pass> pass;
    if (CpuOnly(m.route.id, req)) pass.emplace(gate);
    service::Session session;
    if (!IsPublic(m.route.id)) {
      auto s = auth.Check(SessionCookie(req));
      if (!s) return SendError(res, s.error());
      session = std::move(*s);
    }
    RouteId id = m.route.id;
    if ((id == RouteId::kDownload || id == RouteId::kDelete || id == RouteId::kCancel) &&
        !session.is_admin) {
      SendJson(res, 403, ErrorView(403, "user " + session.username +
                                            " may list and inspect images but not change them"));
      return;
    }
    auto result = Dispatch(m.route, session, req, res);
    if (!result) SendError(res, result.error());
  }

  Result<void> Dispatch(const Route& r, const service::Session& session,
                        const httplib::Request& req, httplib::Response& res) {
    switch (r.id) {
      case RouteId::kHealth:
        SendJson(res, 200, {{"status", "ok"}});
        return {};
      case RouteId::kLogin: return Login(req, res);
      case RouteId::kLoginRefresh:
        SendJson(res, 200, LoginView(session));
        return {};
      case RouteId::kLogout: {
        WHARF_RETURN_IF_ERROR(auth.Logout(session.id));
        res.set_header("Set-Cookie",
                       std::string(kCookieName) + "=" + CookieAttributes() + "; Max-Age=0");
        SendJson(res, 200, {{"username", session.username}});
        return {};
      }
      case RouteId::kList: return List(req, res);
      case RouteId::kDownloadStatus: {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& job : images.DownloadStatus()) out.push_back(JobView(job));
        SendJson(res, 200, out);
        return {};
      }
      case RouteId::kInspect:
      case RouteId::kRemoteInspect: {
        if (r.type != "docker") {
          return InvalidArgument("image_type must be docker; got \"" + r.type + "\"");
        }
        auto view = r.id == RouteId::kInspect ? images.Inspect(r.name, r.tag)
                                              : images.RemoteInspect(r.name, r.tag);
        if (!view) return Error(view.error());
        SendJson(res, 200, *view);
        return {};
      }
      case RouteId::kTags: {
        if (r.type != "docker") return InvalidArgument("image_type must be docker");
        if (r.official != "0" && r.official != "1") {
          return InvalidArgument("is_official must be 0 or 1; got \"" + r.official + "\"");
        }
        auto tags = images.Tags(r.name, r.official == "1");
        if (!tags) return Error(tags.error());
        SendJson(res, 200, {{"installed", tags->installed}, {"tags", tags->tags}});
        return {};
      }
      case RouteId::kDownload:
        WHARF_RETURN_IF_ERROR(Download(r, req, res));
        Audit(session, req, "download", r.source + " " + r.type + " " + r.name + ":" + r.tag);
        return {};
      case RouteId::kDelete: {
        if (r.source != "local") {
          return InvalidArgument("images can only be deleted from local; got \"" + r.source +
                                 "\"");
        }
        WHARF_RETURN_IF_ERROR(images.Delete(r.type, r.name, r.tag));
        Audit(session, req, "delete", r.type + " " + r.name + (r.tag.empty() ? "" : ":" + r.tag));
        SendJson(res, 200, nlohmann::json::object());
        return {};
      }
      case RouteId::kCancel:
        WHARF_RETURN_IF_ERROR(images.CancelDownload(r.type, r.name, r.tag));
        Audit(session, req, "cancel", r.type + " " + r.name + ":" + r.tag);
        SendJson(res, 200, nlohmann::json::object());
        return {};
      case RouteId::kEvents:
        ServeEvents(events, req, res);
        return {};
      case RouteId::kMetrics:
        res.status = 200;
        res.set_content(RenderMetrics(images.DownloadStats(), images.StoreBytes(), counts),
                        "text/plain; version=0.0.4");
        return {};
      case RouteId::kStatic:
        return ServeStatic(options.share_dir, r.name, res);
    }
    return Internal("unhandled route");
  }

  static void Audit(const service::Session& session, const httplib::Request& req,
                    const char* action, const std::string& what) {
    spdlog::info("audit: {} user={} from={} {}", action, session.username, req.remote_addr, what);
  }

  Result<void> Login(const httplib::Request& req, httplib::Response& res) {
    std::string username;
    std::string password;
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_object()) {
      auto u = OptionalString(body, "username");
      auto p = OptionalString(body, "password");
      if (!u) return Error(u.error());
      if (!p) return Error(p.error());
      username = *u;
      password = *p;
    } else {
      username = req.get_param_value("username");
      password = req.get_param_value("password");
    }
    if (username.empty()) return InvalidArgument("username is required");
    if (int64_t wait = throttle.Check(username, req.remote_addr, NowSeconds()); wait > 0) {
      res.set_header("Retry-After", std::to_string(wait));
      spdlog::warn("audit: login throttled user=\"{}\" from={}", username, req.remote_addr);
      return ResourceExhausted("too many failed logins; try again in " + std::to_string(wait) +
                               " s");
    }
    auto session = auth.Login(username, password);
    if (!session) {
      if (session.error().code == Code::kUnauthenticated) {
        throttle.Failure(username, req.remote_addr, NowSeconds());
      }
      spdlog::warn("audit: login failed user=\"{}\" from={}", username, req.remote_addr);
      return Error(session.error());
    }
    throttle.Success(username);
    spdlog::info("audit: login user={} from={}", username, req.remote_addr);
    res.set_header("Set-Cookie", std::string(kCookieName) + "=" + session->id +
                                     CookieAttributes() +
                                     "; Max-Age=" + std::to_string(options.session_ttl_s));
    SendJson(res, 200, LoginView(*session));
    return {};
  }

  Result<void> List(const httplib::Request& req, httplib::Response& res) {
    auto depot = DepotParam(req);
    if (!depot) return Error(depot.error());
    auto type = TypeParam(req.get_param_value("type"), "type");
    if (!type) return Error(type.error());
    ListQuery q{*depot, *type, req.get_param_value("filter_text")};
    for (auto [name, field, max] : {std::tuple{"page", &q.page, int64_t{1} << 20},
                                    std::tuple{"n", &q.n, int64_t{100}}}) {
      if (!req.has_param(name)) continue;
      auto value = PositiveParam(req.get_param_value(name), name, max);
      if (!value) return Error(value.error());
      *field = *value;
    }
    if (q.depot == "local") {  // the hot path: served as text kept between requests
      auto text = local_listings.Get(images, q);
      if (!text) return Error(text.error());
      res.status = 200;
      // Written to the socket straight from the kept text: a listing of 1,000 images is
      // ~180 KB, and copying it into the response for every request cost more than the rest.
      std::shared_ptr<const std::string> body = *text;
      res.set_content_provider(
          body->size(), "application/json",
          [body](size_t offset, size_t length, httplib::DataSink& sink) {
            return sink.write(body->data() + offset, length);
          });
      return {};
    }
    auto listing = ListDepot(images, depots, q);
    if (!listing) return Error(listing.error());
    SendJson(res, 200, *listing);
    return {};
  }

  Result<void> Download(const Route& r, const httplib::Request& req, httplib::Response& res) {
    auto body = JsonBody(req);
    if (!body) return Error(body.error());
    service::DownloadRequest d{r.source, r.type, r.name, r.tag};
    for (auto [key, field] : {std::pair{"description", &d.description},
                              std::pair{"location", &d.location}, std::pair{"icon", &d.icon}}) {
      auto value = OptionalString(*body, key);
      if (!value) return Error(value.error());
      *field = *value;
    }
    WHARF_RETURN_IF_ERROR(images.Download(d));
    SendJson(res, 200, nlohmann::json::object());
    return {};
  }
};

Server::Server(ServerOptions options, service::ImageService& images, service::Auth& auth,
               depot::Depots& depots, pull::EventBus& events)
    : impl_(std::make_unique<Impl>(options, images, auth, depots, events)) {
  auto& http = *impl_->http;
  http.set_tcp_nodelay(true);
  // cpp-httplib closes a kept-alive connection after 5 requests; each reconnection costs a
  // handshake and a hand-off to a pool thread (a third of the CPU of a local listing).
  http.set_keep_alive_max_count(kKeepAliveMaxRequests);
  // cpp-httplib's defaults: SO_REUSEPORT, which lets a second process bind the same port and
  // take half of the connections, and a listen backlog of 5 (fixed in Debian's shared
  // library), which drops the SYNs of a burst of clients (a second's retransmit each). Here:
  // SO_REUSEADDR only, and the socket is kept so that Bind can widen the backlog.
  http.set_socket_options([this](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    impl_->listen_fd = sock;
  });
  // Connections over the cap get a 503 at once (pre-routing handler below); event streams hold
  // a thread each for as long as they are open.
  const size_t max_connections = impl_->options.max_connections;
  http.new_task_queue = [max_connections] { return new ConnectionPool(max_connections, 64); };
  http.set_payload_max_length(options.max_body_bytes);
  http.set_read_timeout(options.read_timeout_s, 0);
  http.set_write_timeout(options.write_timeout_s, 0);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    impl_->Handle(req, res);
  };
  // cpp-httplib 0.11 waits for a body until the read timeout when a POST has neither
  // Content-Length nor chunked encoding (what `curl -XPOST URL` sends). Such a request has no
  // body (RFC 9112 6.3), so it is answered before the server tries to read one.
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (ConnectionPool::OverCapacity()) {
      res.set_header("Connection", "close");
      res.set_header("Retry-After", "1");
      SendJson(res, 503,
               ErrorView(503, "too many connections (max_connections is " +
                                  std::to_string(impl_->options.max_connections) +
                                  "); try again"));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    impl_->Handle(req, res);
    return httplib::Server::HandlerResponse::Handled;
  });
  http.Get(".*", handler);
  http.Post(".*", handler);
  http.Put(".*", handler);
  http.Delete(".*", handler);
  http.Patch(".*", handler);
  http.Options(".*", handler);
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.status == 413) {
      SendJson(res, 413, ErrorView(413, "request body too large"));
    } else if (!res.body.starts_with("{\"error\"")) {
      SendJson(res, res.status, ErrorView(res.status, "HTTP error " + std::to_string(res.status)));
    }
  });
}

Server::~Server() { Stop(); }

Result<std::unique_ptr<Server>> Server::Create(ServerOptions options,
                                               service::ImageService& images,
                                               service::Auth& auth, depot::Depots& depots,
                                               pull::EventBus& events) {
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return InvalidArgument("tls_cert and tls_key must be set together");
  }
  std::string cert = options.tls_cert;
  auto server = std::make_unique<Server>(std::move(options), images, auth, depots, events);
  if (!server->impl_->http->is_valid()) {
    return InvalidArgument("cannot load the TLS certificate or key (" + cert + ")");
  }
  return server;
}

Result<int> Server::Bind(const std::string& host, int port) {
  int bound = port == 0 ? impl_->http->bind_to_any_port(host) : port;
  if (port != 0 && !impl_->http->bind_to_port(host, port)) bound = -1;
  if (bound < 0) {
    return Unavailable("cannot listen on " + host + ":" + std::to_string(port) +
                       " (address in use or not available)");
  }
  // Listening again on a listening socket only changes its backlog (Linux).
  constexpr int kListenBacklog = 1024;
  if (impl_->listen_fd >= 0 && ::listen(impl_->listen_fd, kListenBacklog) != 0) {
    spdlog::warn("cannot widen the listen backlog: {}", std::strerror(errno));
  }
  return bound;
}

Result<void> Server::Serve() {
  if (!impl_->http->listen_after_bind()) return Internal("HTTP server stopped with an error");
  return {};
}

void Server::Stop() { impl_->http->stop(); }

}  // namespace wharf::api
