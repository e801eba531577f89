#include "wharf/api/router.h"

#include <vector>

namespace wharf::api {

namespace {

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    out.emplace_back(
        path.substr(start, slash == std::string_view::npos ? path.npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& segs, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) {
    if (i > from) out += '/';
    out += segs[i];
  }
  return out;
}

struct Candidate {
  const char* method;
  Route route;
};

// The settings routes under /api/v1/registries: a host is one segment ("127.0.0.1:5000").
void RecogniseRegistries(std::string_view path, std::vector<Candidate>& out) {
  auto add = [&](const char* method, Route r) { out.push_back({method, std::move(r)}); };
  constexpr std::string_view kRegistries = "/api/v1/registries";
  if (path == kRegistries) {
    add("GET", {RouteId::kRegistries});
  } else if (path.starts_with(kRegistries) && path[kRegistries.size()] == '/') {
    auto segs = Split(path.substr(kRegistries.size() + 1));
    if (segs.size() == 1) {
      add("PUT", {RouteId::kRegistryPut, "", "", segs[0]});
      add("DELETE", {RouteId::kRegistryRemove, "", "", segs[0]});
    }
    if (segs.size() == 2 && segs[1] == "test")
      add("POST", {RouteId::kRegistryTest, "", "", segs[0]});
    if (segs.size() == 2 && segs[0] == "docker.io" && segs[1] == "mirrors") {
      add("GET", {RouteId::kMirrors});
      add("PUT", {RouteId::kMirrorsPut});
    }
  }
}

// Every route a path can name, whatever the method. An image name may end in a word that is
// also a route's fixed end ("team/download"), so a path can name several routes.
std::vector<Candidate> Recognise(std::string_view path) {
  std::vector<Candidate> out;
  auto add = [&](const char* method, Route r) { out.push_back({method, std::move(r)}); };
  if (path == "/healthz") add("GET", {RouteId::kHealth});
  if (path == "/api/v1/login") add("POST", {RouteId::kLogin});
  if (path == "/api/v1/login_refresh") add("GET", {RouteId::kLoginRefresh});
  if (path == "/api/v1/logout") add("PUT", {RouteId::kLogout});
  if (path == "/api/v1/events") add("GET", {RouteId::kEvents});
  if (path == "/metrics") add("GET", {RouteId::kMetrics});
  if (path == "/" || path == "/index.html" || path.starts_with("/web/") ||
      path.starts_with("/icons/")) {
    add("GET", {RouteId::kStatic, "", "", std::string(path)});
  }
  constexpr std::string_view kUsers = "/api/v1/users";
  if (path == kUsers) {
    add("GET", {RouteId::kUsers});
    add("POST", {RouteId::kUserAdd});
  } else if (path.starts_with(kUsers) && path[kUsers.size()] == '/') {
    auto segs = Split(path.substr(kUsers.size() + 1));
    if (segs.size() == 1) add("DELETE", {RouteId::kUserRemove, "", "", segs[0]});
    if (segs.size() == 2 && segs[1] == "password") {
      add("PUT", {RouteId::kUserPassword, "", "", segs[0]});
    }
  }
  if (path == "/api/v1/system/df") add("GET", {RouteId::kDiskUsage});
  RecogniseRegistries(path, out);
  constexpr std::string_view kImage = "/api/v1/image";
  if (!path.starts_with(kImage)) return out;
  std::string_view rest = path.substr(kImage.size());
  if (rest.empty() || rest == "/") {
    add("GET", {RouteId::kList});
    return out;
  }
  if (rest.front() != '/') return out;
  auto segs = Split(rest.substr(1));
  const size_t n = segs.size();
  const std::string& last = segs.back();
  if (n == 1 && segs[0] == "downloadstatus") add("GET", {RouteId::kDownloadStatus});
  if (n == 1 && segs[0] == "import") add("POST", {RouteId::kImport});
  if (n == 1 && segs[0] == "updates") add("GET", {RouteId::kUpdates});
  if (n == 2 && segs[0] == "updates" && segs[1] == "check") add("POST", {RouteId::kUpdateCheck});
  if (n >= 4 && segs[0] == "downloadstatus") {
    add("DELETE", {RouteId::kCancel, "", segs[1], Join(segs, 2, n - 1), last});
  }
  if (n >= 5 && last == "tags" && segs[0] == "dockerhub") {
    add("GET", {RouteId::kTags, segs[0], segs[1], Join(segs, 3, n - 1), "", segs[2]});
  }
  if (n >= 4 && (last == "inspect" || last == "remote_inspect")) {
    RouteId id = last == "inspect" ? RouteId::kInspect : RouteId::kRemoteInspect;
    add("GET", {id, "", segs[0], Join(segs, 1, n - 2), segs[n - 2]});
  }
  if (n >= 4 && last == "engine") {
    add("GET", {RouteId::kEngineState, "", segs[0], Join(segs, 1, n - 2), segs[n - 2]});
  }
  if (n == 1 && segs[0] == "export") add("GET", {RouteId::kExportMany});
  if (n >= 4 && last == "export") {
    add("GET", {RouteId::kExport, "", segs[0], Join(segs, 1, n - 2), segs[n - 2]});
  }
  if (n >= 5 && last == "download") {
    add("POST", {RouteId::kDownload, segs[0], segs[1], Join(segs, 2, n - 2), segs[n - 2]});
  }
  if (n >= 3) {
    // DELETE /{from}/{type}/{name}[:{tag}]: a tag can only follow the last path segment.
    std::string name = Join(segs, 2, n);
    std::string tag;
    if (size_t colon = last.rfind(':'); colon != std::string::npos) {
      tag = last.substr(colon + 1);
      name.resize(name.size() - (last.size() - colon));
    }
    add("DELETE", {RouteId::kDelete, segs[0], segs[1], name, tag});
  }
  return out;
}

}  // namespace

RouteMatch MatchRoute(std::string_view method, std::string_view path) {
  RouteMatch m;
  auto candidates = Recognise(path);
  if (candidates.empty()) return m;
  if (method == "HEAD") method = "GET";
  for (auto& c : candidates) {
    if (method == c.method) {
      m.kind = RouteMatch::kFound;
      m.route = std::move(c.route);
      return m;
    }
  }
  m.kind = RouteMatch::kWrongMethod;
  m.allow = candidates.front().method;
  return m;
}

bool IsPublic(RouteId id) {
  return id == RouteId::kLogin || id == RouteId::kHealth || id == RouteId::kMetrics ||
         id == RouteId::kStatic;
}

}  // namespace wharf::api
