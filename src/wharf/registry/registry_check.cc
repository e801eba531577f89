#include "wharf/registry/registry_check.h"

#include <nlohmann/json.hpp>

#include "wharf/registry/authenticator.h"
#include "wharf/registry/endpoints.h"
#include "wharf/registry/http_transfer.h"

namespace wharf::registry {

namespace {

constexpr std::string_view kCatalogScope = "registry:catalog:*";

// One check in progress: its endpoints and authenticator (fresh, so nothing cached is used),
// and the steps so far.
class Check {
 public:
  Check(const Options& options, const std::string& host, std::string repository,
        const std::function<bool()>& cancelled)
      : endpoints_(options),
        auth_(endpoints_),
        domain_(host),
        host_key_(endpoints_.HostKey(host)),
        repository_(repository.empty() && host == reference::kDockerHubDomain ? "library/busybox"
                                                                              : repository),
        cancelled_(cancelled) {}

  CheckReport Run() {
    base_ = endpoints_.BaseUrl(domain_, cancelled_) + "/v2/";
    auto ping = Get(base_, "");
    if (!Step("ping", ping)) return Report();
    if (ping->status != 200 && ping->status != 401) {
      Fail("ping", "GET " + base_ + ": " + ping->StatusText() + " (not a registry's /v2/)");
      return Report();
    }
    Pass("ping", "GET " + base_ + ": " + ping->StatusText());
    if (ping->status == 200) {
      Pass("challenge", "none: the registry answers without credentials");
      Pass("login", "not needed");
    } else if (!Login(*ping)) {
      return Report();
    }
    Read();
    return Report();
  }

 private:
  Result<HttpResponse> Get(const std::string& url, const std::string& authorization) {
    HttpRequest request = endpoints_.NewRequest(url, "registry " + host_key_);
    request.headers.push_back("Accept: application/json");
    if (!authorization.empty()) request.headers.push_back("Authorization: " + authorization);
    request.decode_content = true;
    request.max_body_bytes = 1 << 20;
    request.cancelled = cancelled_;
    return PerformHttp(request);
  }

  // GET `url` with what is known, answering one 401 for `scope`.
  Result<HttpResponse> GetAuthorized(const std::string& url, const std::string& scope) {
    auto got = Get(url, authorization_);
    if (!got || got->status != 401) return got;
    auto next = auth_.Answer(host_key_, url, ChallengesOf(*got), scope, authorization_, cancelled_);
    if (!next) return got;
    authorization_ = *next;
    return Get(url, authorization_);
  }

  static std::vector<Challenge> ChallengesOf(const HttpResponse& response) {
    std::vector<Challenge> out;
    for (const auto& value : response.headers.GetAll("www-authenticate")) {
      auto parsed = ParseWwwAuthenticate(value);
      out.insert(out.end(), parsed.begin(), parsed.end());
    }
    return out;
  }

  // The "challenge" and "login" steps after the 401 of /v2/.
  bool Login(const HttpResponse& ping) {
    std::vector<Challenge> challenges = ChallengesOf(ping);
    std::string described;
    std::string token_realm;  // a Bearer challenge's, "" for Basic
    for (const auto& c : challenges) {
      if (c.scheme != "bearer" && c.scheme != "basic") continue;
      auto realm = c.params.find("realm");
      std::string where = realm == c.params.end() ? "" : " (realm " + realm->second + ")";
      described = (c.scheme == "bearer" ? "Bearer token" : "Basic") + where;
      if (c.scheme == "bearer") {
        token_realm = realm == c.params.end() ? "" : realm->second;
        break;
      }
    }
    if (described.empty()) {
      return Fail("challenge",
                  challenges.empty()
                      ? "401 Unauthorized without a WWW-Authenticate challenge"
                      : "unsupported authentication scheme \"" + challenges.front().scheme + "\"");
    }
    Pass("challenge", described);
    const HostOptions host = endpoints_.Host(host_key_);
    const std::string who = host.username.empty() ? "anonymously" : "as user " + host.username;
    const bool docker_hub = domain_ == reference::kDockerHubDomain;
    if (!host.username.empty() && !token_realm.empty() &&
        !MaySendCredentials(base_, token_realm, docker_hub)) {
      return Fail("login", "the credentials of user " + host.username +
                               " are not sent to the token server " + token_realm +
                               ": it is not on the registry's own host and port (or not over "
                               "TLS), and credentials go only there");
    }
    auto answer =
        auth_.Answer(host_key_, base_, challenges, std::string(kCatalogScope), "", cancelled_);
    if (!answer) return Fail("login", answer.error().message);
    authorization_ = *answer;
    auto checked = Get(base_, authorization_);
    if (!Step("login", checked)) return false;
    if (checked->status != 200) {
      return Fail("login", "GET " + base_ + " " + who + ": " + checked->StatusText());
    }
    Pass("login", described + " " + who + ": GET " + base_ + ": " + checked->StatusText());
    return true;
  }

  // The "read" step: the catalog's first repository (or the one given), then its tags.
  void Read() {
    if (!repository_.empty()) {
      const std::string tags_url = base_ + repository_ + "/tags/list";
      auto tags = GetAuthorized(tags_url, PullScope(repository_));
      if (!Step("read", tags)) return;
      if (tags->status != 200) {
        Fail("read", "GET " + tags_url + ": " + tags->StatusText());
      } else {
        Pass("read", "GET " + tags_url + ": 200 OK");
      }
      return;
    }
    const std::string catalog_url = base_ + "_catalog?n=1";
    auto catalog = GetAuthorized(catalog_url, std::string(kCatalogScope));
    if (!Step("read", catalog)) return;
    if (catalog->status != 200) {
      Fail("read", "GET " + catalog_url + ": " + catalog->StatusText());
      return;
    }
    std::string first;
    try {
      auto doc = nlohmann::json::parse(catalog->body);
      const auto& repositories = doc.at("repositories");
      if (!repositories.empty()) first = repositories.at(0).get<std::string>();
    } catch (const nlohmann::json::exception& e) {
      Fail("read", "GET " + catalog_url + ": not a catalog: " + e.what());
      return;
    }
    if (first.empty()) {
      Pass("read", "GET " + catalog_url + ": 200 OK, no repository yet");
      return;
    }
    const std::string tags_url = base_ + first + "/tags/list";
    auto tags = GetAuthorized(tags_url, PullScope(first));
    if (!Step("read", tags)) return;
    if (tags->status != 200) {
      Fail("read", "GET " + tags_url + ": " + tags->StatusText());
      return;
    }
    Pass("read", "GET " + catalog_url + ": 200 OK, first repository " + first + "; GET " +
                     tags_url + ": 200 OK");
  }

  // A transport failure fails `step`; true when there is an answer to judge.
  bool Step(const char* step, const Result<HttpResponse>& got) {
    if (got) return true;
    Fail(step, got.error().message);
    return false;
  }
  void Pass(const char* step, std::string message) {
    report_.steps.push_back({step, true, std::move(message)});
  }
  // Always false, for `return Fail(...)` in the steps.
  bool Fail(const char* step, std::string message) {
    report_.steps.push_back({step, false, std::move(message)});
    return false;
  }
  CheckReport Report() {
    report_.ok = !report_.steps.empty() && report_.steps.back().ok &&
                 report_.steps.back().step == std::string("read");
    return report_;
  }

  Endpoints endpoints_;
  Authenticator auth_;
  const std::string domain_;
  const std::string host_key_;
  const std::string repository_;
  const std::function<bool()>& cancelled_;
  std::string base_;
  std::string authorization_;
  CheckReport report_;
};

}  // namespace

CheckReport CheckRegistry(const Options& options, const std::string& host,
                          const std::string& repository, const std::function<bool()>& cancelled) {
  return Check(options, host, repository, cancelled).Run();
}

}  // namespace wharf::registry
