#include "wharf/api/server.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <tuple>

#include "wharf/api/archives.h"
#include "wharf/api/handlers.h"
#include "wharf/api/imports.h"
#include "wharf/api/listing.h"
#include "wharf/api/pull_through.h"
#include "wharf/api/registry_routes.h"
#include "wharf/api/request_params.h"
#include "wharf/api/router.h"
#include "wharf/api/settings_routes.h"
#include "wharf/api/update_routes.h"
#include "wharf/api/views.h"
#include "wharf/base/log_text.h"
#include "wharf/service/login_throttle.h"

namespace wharf::api {

namespace {

constexpr std::string_view kCookieName = "wharf_session";
using SteadyClock = std::chrono::steady_clock;

HttpResponse ErrorAnswer(int status, const std::string& message) {
  if (status >= 500) spdlog::error("request failed: {}", LogSafe(message, 512));
  return JsonAnswer(status, ErrorView(status, message));
}

HttpResponse ErrorAnswer(const Status& error) {
  return ErrorAnswer(HttpStatus(error.code), error.message);
}

bool ChangesState(const HttpRequest& req) { return req.method != "GET" && req.method != "HEAD"; }

// A state-changing request from a page of another site (cross-site request forgery) is
// refused; requests without Origin (curl, the CLI) and same-origin ones pass.
bool CrossSite(const HttpRequest& req) {
  const std::string* origin = req.Header("origin");
  if (!ChangesState(req) || origin == nullptr) return false;
  std::string host = req.HeaderOr("host");
  return *origin != "http://" + host && *origin != "https://" + host;
}

// What Admit() learned, for Handle().
struct Admitted {
  Route route;
  service::Session session;
};

}  // namespace

struct Server::Impl : HttpHandler {
  ServerOptions options;
  Services services;
  service::LocalImages& local;
  service::Downloads& downloads;
  RequestCounts counts;
  service::LoginThrottle throttle;
  LocalListingCache local_listings;
  EventStreamSlots streams;
  std::unique_ptr<PullThrough> pull_through;
  Distribution distribution;
  std::unique_ptr<HttpServer> http;

  Impl(ServerOptions o, Services s)
      : options(std::move(o)),
        services(s),
        local(s.local),
        downloads(s.downloads),
        streams(options.max_event_streams_per_user, options.max_event_streams),
        pull_through(options.serve.pull_through && s.served != nullptr
                         ? std::make_unique<PullThrough>(
                               *s.served, s.downloads, s.events,
                               std::chrono::seconds(options.serve.pull_through_wait_s))
                         : nullptr),
        distribution(WithTls(options.serve, !options.http.tls_cert.empty()), s.served, s.auth,
                     throttle, *options.clock, pull_through.get()) {}

  static DistributionOptions WithTls(DistributionOptions o, bool tls) {
    o.tls = tls;
    return o;
  }

  std::string CookieAttributes() const {
    return std::string("; Path=/; HttpOnly; SameSite=Strict") +
           (options.http.tls_cert.empty() ? "" : "; Secure");
  }

  // Every answer: the page uses no inline script and loads nothing from other hosts but
  // catalog icons; counted by route and status.
  HttpResponse Finish(HttpResponse res, const char* route) {
    res.AddHeader("Content-Security-Policy",
                  "default-src 'self'; img-src 'self' http: https: data:; "
                  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    res.AddHeader("X-Content-Type-Options", "nosniff");
    res.AddHeader("Referrer-Policy", "no-referrer");
    res.AddHeader("X-Frame-Options", "DENY");
    counts.Add(route, res.status);
    return res;
  }

  Lane LaneOf(const HttpRequest& head) override {
    if (Distribution::Claims(head.path)) return distribution.LaneOf(head);
    RouteMatch m = MatchRoute(head.method, head.path);
    if (m.kind != RouteMatch::kFound) return Lane::kFast;
    switch (m.route.id) {
      case RouteId::kLogin:  // a password hash
      case RouteId::kUserAdd:
      case RouteId::kUserPassword:
      case RouteId::kRemoteInspect:  // the registry
      case RouteId::kTags:
      case RouteId::kEngineState:  // the local engine
      case RouteId::kImport:       // a long upload onto the disk, then the engine
      case RouteId::kUpdateCheck:  // the registries
      case RouteId::kRegistryTest:
        return Lane::kSlow;
      case RouteId::kList: {
        auto depot = DepotParam(head);
        return depot && *depot == "dockerhub" ? Lane::kSlow : Lane::kFast;
      }
      default:
        return Lane::kFast;
    }
  }

  std::optional<HttpResponse> Admit(HttpRequest& req) override {
    RouteMatch m = MatchRoute(req.method, req.path);
    const char* route = m.kind == RouteMatch::kFound ? RouteName(m.route.id) : "unknown";
    auto refuse = [&](HttpResponse res) { return std::optional(Finish(std::move(res), route)); };
    if (!HostAllowed(req, options.allowed_hosts)) {
      return refuse(
          ErrorAnswer(400, "Host \"" + req.HeaderOr("host") + "\" is not one of allowed_hosts"));
    }
    if (req.path.find('\0') != std::string::npos) {
      return refuse(ErrorAnswer(404, "no such endpoint (the path holds a NUL byte)"));
    }
    if (Distribution::Claims(req.path)) return Finish(distribution.Answer(req), "v2");
    if (auto utf8 = CheckUtf8(req, m); !utf8) return refuse(ErrorAnswer(utf8.error()));
    if (m.kind == RouteMatch::kNoRoute) {
      return refuse(ErrorAnswer(404, "no such endpoint: " + req.path));
    }
    if (m.kind == RouteMatch::kWrongMethod) {
      HttpResponse res = ErrorAnswer(405, "method " + req.method + " not allowed; use " + m.allow);
      res.AddHeader("Allow", m.allow);
      return refuse(std::move(res));
    }
    if (CrossSite(req)) {
      return refuse(
          ErrorAnswer(403, "cross-site request refused (Origin " + req.HeaderOr("origin") + ")"));
    }
    Admitted admitted{m.route, {}};
    if (!IsPublic(m.route.id)) {
      auto session = services.auth.Check(CookieValue(req.HeaderOr("cookie"), kCookieName));
      if (!session) return refuse(ErrorAnswer(session.error()));
      admitted.session = std::move(*session);
    }
    RouteId id = m.route.id;
    if ((id == RouteId::kDownload || id == RouteId::kDelete || id == RouteId::kCancel ||
         id == RouteId::kImport || id == RouteId::kUpdateCheck) &&
        !admitted.session.is_admin) {
      return refuse(ErrorAnswer(403, "user " + admitted.session.username +
                                         " may list and inspect images but not change them"));
    }
    if (IsRegistryWrite(id) && !admitted.session.is_admin) {
      return refuse(ErrorAnswer(403, "user " + admitted.session.username +
                                         " may read the registry settings but not change them"));
    }
    // Which registries a user who is not an admin may have wharf reach ([security]
    // user_registries): a 403 naming the host and the setting.
    if ((id == RouteId::kRemoteInspect || id == RouteId::kTags) && !admitted.session.is_admin) {
      if (auto reach = services.remote.AdmitUser(m.route.name); !reach) {
        return refuse(ErrorAnswer(reach.error()));
      }
    }
    if (id == RouteId::kImport) {
      if (auto started = AdmitImport(req, services.imports); !started) {
        return refuse(ErrorAnswer(started.error()));
      }
      Audit(admitted.session, req, "import", service::ImportLabel(req.Param("file")));
    }
    if (!MayManage(m.route, admitted.session)) {
      return refuse(
          ErrorAnswer(403, "user " + admitted.session.username + " may not manage other users"));
    }
    req.context = std::move(admitted);
    return std::nullopt;
  }

  HttpResponse Handle(HttpRequest& req) override {
    const auto& admitted = std::any_cast<const Admitted&>(req.context);
    HttpResponse res;
    auto result = Dispatch(admitted.route, admitted.session, req, res);
    if (!result) res = ErrorAnswer(result.error());
    return Finish(std::move(res), RouteName(admitted.route.id));
  }

  HttpResponse Refusal(int status, const std::string& message) override {
    return Finish(ErrorAnswer(status, message), "refused");
  }

  // A registry call made for `req` stops when the client leaves, the server stops, or
  // upstream_timeout_s has passed; UpstreamError then says which.
  std::function<bool()> Upstream(const HttpRequest& req, SteadyClock::time_point deadline) {
    return [&req, deadline] { return req.Abandoned() || SteadyClock::now() >= deadline; };
  }
  Status UpstreamError(Status error, SteadyClock::time_point deadline) const {
    if (error.code != Code::kCancelled || SteadyClock::now() < deadline) return error;
    return Status{Code::kUnavailable, "no answer from upstream within " +
                                          std::to_string(options.upstream_timeout_s) +
                                          " s (upstream_timeout_s): " + error.message};
  }
  SteadyClock::time_point UpstreamDeadline() const {
    return SteadyClock::now() + std::chrono::seconds(options.upstream_timeout_s);
  }

  Result<void> Dispatch(const Route& r, const service::Session& session, HttpRequest& req,
                        HttpResponse& res);
  Result<void> Images(const Route& r, const HttpRequest& req, HttpResponse& res);
  Result<void> Change(const Route& r, const service::Session& session, const HttpRequest& req,
                      HttpResponse& res);
  void Audit(const service::Session& session, const HttpRequest& req, const char* action,
             const std::string& what) {
    spdlog::info("audit: {} user=\"{}\" from={} {}", action, LogSafe(session.username),
                 req.remote_addr, LogSafe(what, 512));
  }
  Result<void> Login(const HttpRequest& req, HttpResponse& res);
  Result<void> List(const HttpRequest& req, HttpResponse& res);
  Result<void> Download(const Route& r, const HttpRequest& req);
  Result<void> Events(const service::Session& session, const HttpRequest& req, HttpResponse& res);
  // An image archive of local images (archives.h), for any user: it is a read.
  Result<void> Export(const Route& r, const service::Session& session, const HttpRequest& req,
                      HttpResponse& res) {
    WHARF_ASSIGN_OR_RETURN(auto exported, ExportImages(local, r, req));
    std::string what;
    for (const auto& image : exported.images) what += (what.empty() ? "" : " ") + image;
    Audit(session, req, "export", what);
    res = std::move(exported.answer);
    return {};
  }
};

Result<void> Server::Impl::Dispatch(const Route& r, const service::Session& session,
                                    HttpRequest& req, HttpResponse& res) {
  switch (r.id) {
    case RouteId::kHealth:
      res = JsonAnswer(200, {{"status", "ok"}});
      return {};
    case RouteId::kLogin:
      return Login(req, res);
    case RouteId::kLoginRefresh:
      res = JsonAnswer(200, LoginView(session));
      return {};
    case RouteId::kLogout:
      WHARF_RETURN_IF_ERROR(services.auth.Logout(session.id));
      res = JsonAnswer(200, {{"username", session.username}});
      res.AddHeader("Set-Cookie",
                    std::string(kCookieName) + "=" + CookieAttributes() + "; Max-Age=0");
      return {};
    case RouteId::kList:
      return List(req, res);
    case RouteId::kEvents:
      return Events(session, req, res);
    case RouteId::kMetrics:
      res.SetBody(RenderMetrics(downloads.Stats(), local.StoreBytes(), counts),
                  "text/plain; version=0.0.4");
      return {};
    case RouteId::kStatic:
      return ServeStatic(options.share_dir, r.name, res);
    case RouteId::kExport:
    case RouteId::kExportMany:
      return Export(r, session, req, res);
    case RouteId::kDownload:
    case RouteId::kDelete:
    case RouteId::kCancel:
      return Change(r, session, req, res);
    case RouteId::kImport:
      res = FinishImport(req);
      return {};
    case RouteId::kUsers:
    case RouteId::kUserAdd:
    case RouteId::kUserRemove:
    case RouteId::kUserPassword: {
      WHARF_ASSIGN_OR_RETURN(res, UsersRoute(r, session, req, services.auth));
      if (r.id != RouteId::kUsers) Audit(session, req, RouteName(r.id), r.name);
      return {};
    }
    case RouteId::kRegistries:
    case RouteId::kRegistryPut:
    case RouteId::kRegistryRemove:
    case RouteId::kRegistryTest:
    case RouteId::kMirrors:
    case RouteId::kMirrorsPut: {
      // The audit line names the host, never the body (it may hold a password).
      if (IsRegistryWrite(r.id)) Audit(session, req, RouteName(r.id), r.name);
      WHARF_ASSIGN_OR_RETURN(
          res, RegistryRoute(r, req, services.registries, Upstream(req, UpstreamDeadline())));
      return {};
    }
    case RouteId::kDiskUsage: {
      WHARF_ASSIGN_OR_RETURN(res, DiskUsageRoute(local));
      return {};
    }
    case RouteId::kUpdates: {
      WHARF_ASSIGN_OR_RETURN(res, ListUpdates(services.updates));
      return {};
    }
    case RouteId::kUpdateCheck: {
      WHARF_ASSIGN_OR_RETURN(
          res, CheckUpdates(services.updates, req, [&req] { return req.Abandoned(); }));
      return {};
    }
    default:
      return Images(r, req, res);
  }
}

// The read-only image routes.
Result<void> Server::Impl::Images(const Route& r, const HttpRequest& req, HttpResponse& res) {
  switch (r.id) {
    case RouteId::kDownloadStatus: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& job : downloads.List()) out.push_back(JobView(job));
      res = JsonAnswer(200, out);
      return {};
    }
    case RouteId::kInspect:
    case RouteId::kRemoteInspect: {
      if (r.type != "docker") {
        return InvalidArgument("image_type must be docker; got \"" + r.type + "\"");
      }
      auto deadline = UpstreamDeadline();
      auto view = r.id == RouteId::kInspect
                      ? local.Inspect(r.name, r.tag)
                      : services.remote.Inspect(r.name, r.tag, Upstream(req, deadline));
      if (!view) return Error(UpstreamError(view.error(), deadline));
      res = JsonAnswer(200, *view);
      return {};
    }
    case RouteId::kEngineState: {  // does the hand-off's engine hold this image?
      if (r.type != "docker") return InvalidArgument("image_type must be docker");
      WHARF_ASSIGN_OR_RETURN(auto found, local.Find(r.name, r.tag));
      auto held = downloads.InEngine(*found.image);
      if (!held) return Error(held.error());
      res = JsonAnswer(200, {{"engine", held->has_value()},
                             {"present", held->has_value() ? nlohmann::json(**held) : nullptr}});
      return {};
    }
    case RouteId::kTags: {
      if (r.type != "docker") return InvalidArgument("image_type must be docker");
      if (r.official != "0" && r.official != "1") {
        return InvalidArgument("is_official must be 0 or 1; got \"" + r.official + "\"");
      }
      auto deadline = UpstreamDeadline();
      auto tags = services.remote.Tags(r.name, r.official == "1", Upstream(req, deadline));
      if (!tags) return Error(UpstreamError(tags.error(), deadline));
      res = JsonAnswer(200, {{"installed", tags->installed}, {"tags", tags->tags}});
      return {};
    }
    default:
      return Internal("unhandled route");
  }
}

// Downloads, deletes and cancels (admins only; Admit checked).
Result<void> Server::Impl::Change(const Route& r, const service::Session& session,
                                  const HttpRequest& req, HttpResponse& res) {
  std::string what = r.type + " " + r.name + (r.tag.empty() ? "" : ":" + r.tag);
  if (r.id == RouteId::kDownload) {
    WHARF_RETURN_IF_ERROR(Download(r, req));
    Audit(session, req, "download", r.source + " " + what);
  } else if (r.id == RouteId::kDelete) {
    if (r.source != "local") {
      return InvalidArgument("images can only be deleted from local; got \"" + r.source + "\"");
    }
    WHARF_RETURN_IF_ERROR(downloads.Delete(r.type, r.name, r.tag));
    Audit(session, req, "delete", what);
  } else {
    WHARF_RETURN_IF_ERROR(downloads.Cancel(r.type, r.name, r.tag));
    Audit(session, req, "cancel", what);
  }
  res = JsonAnswer(200, nlohmann::json::object());
  return {};
}

Result<void> Server::Impl::Login(const HttpRequest& req, HttpResponse& res) {
  WHARF_ASSIGN_OR_RETURN(auto credentials, Credentials(req));
  const auto& [username, password] = credentials;
  if (username.empty()) return InvalidArgument("username is required");
  const std::string user = LogSafe(username);
  if (int64_t wait = throttle.Begin(username, req.remote_addr, options.clock->NowSeconds());
      wait > 0) {
    spdlog::warn("audit: login throttled user=\"{}\" from={}", user, req.remote_addr);
    Status error{Code::kResourceExhausted,
                 "too many failed logins; try again in " + std::to_string(wait) + " s"};
    res = ErrorAnswer(error);
    res.AddHeader("Retry-After", std::to_string(wait));
    return {};
  }
  auto session = services.auth.Login(username, password);
  if (!session) {
    spdlog::warn("audit: login failed user=\"{}\" from={}", user, req.remote_addr);
    return Error(session.error());
  }
  throttle.Success(username, req.remote_addr);
  spdlog::info("audit: login user=\"{}\" from={}", user, req.remote_addr);
  res = JsonAnswer(200, LoginView(*session));
  res.AddHeader("Set-Cookie", std::string(kCookieName) + "=" + session->id + CookieAttributes() +
                                  "; Max-Age=" + std::to_string(options.session_ttl_s));
  return {};
}

Result<void> Server::Impl::List(const HttpRequest& req, HttpResponse& res) {
  WHARF_ASSIGN_OR_RETURN(auto depot, DepotParam(req));
  WHARF_ASSIGN_OR_RETURN(auto type, TypeParam(req.Param("type"), "type"));
  ListQuery q{depot, type, req.Param("filter_text")};
  for (auto [name, field, max] :
       {std::tuple{"page", &q.page, int64_t{1} << 20}, std::tuple{"n", &q.n, int64_t{100}}}) {
    if (!req.HasParam(name)) continue;
    WHARF_ASSIGN_OR_RETURN(*field, PositiveParam(req.Param(name), name, max));
  }
  if (q.depot == "local") {
    // The hot path: the kept text is written to the socket as it is, not copied (a listing
    // of 1,000 images is ~180 KB).
    auto text = local_listings.Get(
        local, downloads, q,
        services.updates != nullptr ? services.updates->Available() : service::TagSet{});
    if (!text) return Error(text.error());
    res.body = *text;
    return {};
  }
  auto deadline = UpstreamDeadline();
  auto listing = ListDepot(local, downloads, services.depots, q, Upstream(req, deadline));
  if (!listing) return Error(UpstreamError(listing.error(), deadline));
  res = JsonAnswer(200, *listing);
  return {};
}

Result<void> Server::Impl::Download(const Route& r, const HttpRequest& req) {
  WHARF_ASSIGN_OR_RETURN(auto body, JsonBody(req.body));
  service::DownloadRequest d{r.source, r.type, r.name, r.tag};
  for (auto [key, field] : {std::pair{"description", &d.description},
                            std::pair{"location", &d.location}, std::pair{"icon", &d.icon}}) {
    WHARF_ASSIGN_OR_RETURN(*field, OptionalString(body, key));
  }
  return downloads.Start(d);
}

Result<void> Server::Impl::Events(const service::Session& session, const HttpRequest& req,
                                  HttpResponse& res) {
  std::shared_ptr<void> slot = streams.Take(session.username);
  if (!slot) {
    res = ErrorAnswer(429, "too many event streams open (at most " +
                               std::to_string(streams.per_user()) + " per user and " +
                               std::to_string(streams.total()) + " in all)");
    res.AddHeader("Retry-After", "5");
    return {};
  }
  ServeEvents(services.events, req, std::move(slot), res);
  return {};
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  Stop();
  impl_->http.reset();  // joins its workers, which call into impl_
}

Result<std::unique_ptr<Server>> Server::Create(ServerOptions options, Services services) {
  auto impl = std::make_unique<Impl>(std::move(options), services);
  auto http = HttpServer::Create(impl->options.http, *impl);
  if (!http) return Error(http.error());
  impl->http = std::move(*http);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Result<int> Server::Bind(const std::string& host, int port) {
  return impl_->http->Bind(host, port);
}

Result<void> Server::Serve() { return impl_->http->Serve(); }

void Server::Stop() {
  if (impl_->http) impl_->http->Stop();
}

}  // namespace wharf::api
