#include "wharf/registry/authenticator.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "wharf/registry/registry_errors.h"
#include "wharf/registry/retry.h"

namespace wharf::registry {

namespace {

constexpr std::chrono::seconds kDefaultTokenLifetime{60};

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  if (size_t rest = in.size() - i; rest > 0) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (rest == 2) v |= uint8_t(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string BasicValue(const HostOptions& host) {
  return "Basic " + Base64(host.username + ":" + host.password);
}

bool HasCredentials(const HostOptions& host) { return !host.username.empty(); }

const Challenge* Find(const std::vector<Challenge>& challenges, std::string_view scheme) {
  for (const auto& c : challenges) {
    if (c.scheme == scheme) return &c;
  }
  return nullptr;
}

std::string Param(const Challenge& challenge, const std::string& name) {
  auto it = challenge.params.find(name);
  return it == challenge.params.end() ? "" : it->second;
}

// "host:port" of a URL's origin ("https://a.example:443" → "a.example:443"), "" if none.
std::string HostPortOf(std::string_view url) {
  std::string origin = UrlOrigin(url);
  size_t scheme_end = origin.find("://");
  return scheme_end == std::string::npos ? "" : origin.substr(scheme_end + 3);
}

// Docker Hub's registry sends its clients to this token server.
constexpr std::string_view kDockerHubTokenHost = "auth.docker.io:443";

}  // namespace

bool MaySendCredentials(std::string_view request_url, std::string_view realm, bool docker_hub) {
  const bool realm_tls = realm.starts_with("https://");
  // Never in clear, unless the registry itself is reached in clear (they travel so anyway).
  if (!realm_tls && !request_url.starts_with("http://")) return false;
  std::string realm_host = HostPortOf(realm);
  if (realm_host.empty()) return false;
  if (realm_host == HostPortOf(request_url)) return true;
  return docker_hub && realm_tls && realm_host == kDockerHubTokenHost;
}

std::string PullScope(std::string_view path) { return "repository:" + std::string(path) + ":pull"; }

std::string Authenticator::Known(const std::string& host_key, const std::string& scope) const {
  if (auto token = tokens_.Get(host_key, scope)) return "Bearer " + *token;
  const HostOptions& host = endpoints_.Host(host_key);
  std::lock_guard lock(mu_);
  if (basic_hosts_.contains(host_key) && HasCredentials(host)) return BasicValue(host);
  return "";
}

Result<std::string> Authenticator::Answer(const std::string& host_key,
                                          const std::string& request_url,
                                          const std::vector<Challenge>& challenges,
                                          const std::string& default_scope,
                                          const std::string& refused,
                                          const std::function<bool()>& cancelled) {
  // Bearer first, as Docker does: a registry offering both wants tokens.
  if (const Challenge* bearer = Find(challenges, "bearer")) {
    return AnswerBearer(host_key, request_url, *bearer, default_scope, refused, cancelled);
  }
  if (Find(challenges, "basic") != nullptr) return AnswerBasic(host_key, refused);
  if (challenges.empty()) {
    return Unauthenticated("registry " + host_key + ": 401 Unauthorized without a challenge");
  }
  return Unauthenticated("registry " + host_key + ": unsupported authentication scheme \"" +
                         challenges.front().scheme + "\"");
}

Result<std::string> Authenticator::AnswerBearer(const std::string& host_key,
                                                const std::string& request_url,
                                                const Challenge& challenge,
                                                const std::string& default_scope,
                                                const std::string& refused,
                                                const std::function<bool()>& cancelled) {
  std::string scope = Param(challenge, "scope");
  if (scope.empty()) scope = default_scope;
  // Another request may have obtained a token for this scope meanwhile.
  if (auto token = tokens_.Get(host_key, scope); token && "Bearer " + *token != refused) {
    return "Bearer " + *token;
  }
  WHARF_ASSIGN_OR_RETURN(auto token,
                         FetchToken(host_key, request_url, challenge, scope, cancelled));
  if ("Bearer " + token == refused) {
    return Unauthenticated("registry " + host_key + ": the token server issued a token for " +
                           scope + " that the registry refuses");
  }
  return "Bearer " + token;
}

Result<std::string> Authenticator::AnswerBasic(const std::string& host_key,
                                               const std::string& refused) {
  const HostOptions& host = endpoints_.Host(host_key);
  if (!HasCredentials(host)) {
    return Unauthenticated("registry " + host_key +
                           ": authentication required and no credentials are configured");
  }
  std::string value = BasicValue(host);
  if (value == refused) {
    return Unauthenticated("registry " + host_key + ": credentials for user " + host.username +
                           " refused");
  }
  std::lock_guard lock(mu_);
  basic_hosts_.insert(host_key);
  return value;
}

Result<std::string> Authenticator::FetchToken(const std::string& host_key,
                                              const std::string& request_url,
                                              const Challenge& challenge, const std::string& scope,
                                              const std::function<bool()>& cancelled) {
  std::string realm = Param(challenge, "realm");
  if (realm.empty()) {
    return Unauthenticated("registry " + host_key + ": Bearer challenge without a realm");
  }
  std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
  if (std::string service = Param(challenge, "service"); !service.empty()) {
    url += "service=" + QueryEscape(service) + "&";
  }
  url += "scope=" + QueryEscape(scope);
  std::string peer = "token server " + UrlHostPort(realm) + " for registry " + host_key;
  HttpRequest request = endpoints_.NewRequest(url, peer);
  request.decode_content = true;
  request.headers.push_back("Accept: application/json");
  request.cancelled = cancelled;
  // The host's credentials go only to a realm on the registry's own host and port (see
  // MaySendCredentials); any other realm gets an anonymous token request.
  const HostOptions& host = endpoints_.Host(host_key);
  const bool docker_hub = host_key == endpoints_.HostKey(reference::kDockerHubDomain);
  if (HasCredentials(host) && MaySendCredentials(request_url, realm, docker_hub)) {
    request.headers.push_back("Authorization: " + BasicValue(host));
  } else if (HasCredentials(host)) {
    spdlog::warn(
        "registry {}: token realm {} is not on the registry's host; asking it for a "
        "token without the configured credentials",
        host_key, UrlHostPort(realm));
  }
  // Token servers fail transiently like registries do (Docker Hub's answers 429 and 503).
  RetryPolicy policy(endpoints_.options());
  WHARF_ASSIGN_OR_RETURN(
      auto response, Retry(policy, policy.tries(), cancelled, [&](RetryAdvice& advice) {
        TransportFailure failure = TransportFailure::kNone;
        auto got = PerformHttp(request, &failure);
        if (!got) {
          advice = AdviceForFailure(got.error(), failure);
          return got;
        }
        if (got->status == 200) return got;
        advice = AdviceForResponse(*got);
        std::string details = DescribeRegistryError(got->body);
        std::string message =
            peer + ": " + got->StatusText() + (details.empty() ? "" : ": " + details);
        if (got->status == 401 || got->status == 403) {
          return Result<HttpResponse>(Unauthenticated(message));
        }
        return Result<HttpResponse>(Unavailable(message));
      }));
  std::string token;
  std::chrono::seconds lifetime = kDefaultTokenLifetime;
  try {
    auto doc = nlohmann::json::parse(response.body);
    if (doc.is_object()) {
      if (doc.contains("token") && doc["token"].is_string()) {
        token = doc["token"].get<std::string>();
      }
      if (token.empty() && doc.contains("access_token") && doc["access_token"].is_string()) {
        token = doc["access_token"].get<std::string>();
      }
      if (doc.contains("expires_in") && doc["expires_in"].is_number_integer()) {
        int64_t seconds = doc["expires_in"].get<int64_t>();
        if (seconds > 0) lifetime = std::chrono::seconds(seconds);
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return Unavailable(peer + ": invalid token response: " + e.what());
  }
  if (token.empty()) return Unavailable(peer + ": token response has no token");
  tokens_.Put(host_key, scope, token, lifetime);
  return token;
}

}  // namespace wharf::registry
