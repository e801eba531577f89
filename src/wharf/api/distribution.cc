#include "wharf/api/distribution.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "wharf/api/pull_through.h"
#include "wharf/api/views.h"
#include "wharf/base/log_text.h"
#include "wharf/serve/repository_name.h"

namespace wharf::api {

namespace {

constexpr int64_t kMaxPage = 10000;

std::string Rfc3339(int64_t epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// The Host header as it may appear inside a quoted challenge parameter.
std::string SafeHost(const HttpRequest& req) {
  std::string host;
  for (char c : req.HeaderOr("host")) {
    if (std::isalnum(static_cast<unsigned char>(c)) ||
        std::string_view(".:-[]").find(c) != std::string_view::npos) {
      host.push_back(c);
    }
  }
  return host.empty() ? "localhost" : host;
}

// "NAME/manifests/REF", "NAME/blobs/DIGEST", "NAME/tags/list" after "/v2/".
struct Parsed {
  enum Kind { kBase, kCatalog, kManifest, kBlob, kTags, kNone } kind = kNone;
  std::string name;
  std::string reference;
};

Parsed ParsePath(std::string_view path) {
  if (path == "/v2" || path == "/v2/") return {Parsed::kBase};
  std::string_view rest = path.substr(4);
  if (rest == "_catalog") return {Parsed::kCatalog};
  constexpr std::string_view kTags = "/tags/list";
  if (rest.ends_with(kTags)) {
    return {Parsed::kTags, std::string(rest.substr(0, rest.size() - kTags.size()))};
  }
  for (auto [marker, kind] : {std::pair{std::string_view("/manifests/"), Parsed::kManifest},
                              std::pair{std::string_view("/blobs/"), Parsed::kBlob}}) {
    const size_t at = rest.rfind(marker);
    if (at == std::string_view::npos || at == 0) continue;
    std::string_view reference = rest.substr(at + marker.size());
    if (reference.empty() || reference.find('/') != std::string_view::npos) continue;
    return {kind, std::string(rest.substr(0, at)), std::string(reference)};
  }
  return {};
}

}  // namespace

HttpResponse DistErrorAnswer(const serve::DistError& error) {
  if (error.status >= 500) spdlog::error("/v2/ request failed: {}", LogSafe(error.message, 512));
  return JsonAnswer(
      error.status,
      {{"errors", nlohmann::json::array(
                      {{{"code", error.code}, {"message", error.message}, {"detail", nullptr}}})}});
}

Distribution::Distribution(DistributionOptions options, serve::ServedImages* served,
                           service::Auth& auth, service::LoginThrottle& throttle, Clock& clock,
                           PullThrough* pull_through)
    : options_(options),
      served_(served),
      auth_(auth),
      throttle_(throttle),
      clock_(clock),
      tokens_(clock, options.token_ttl_s),
      credentials_(clock),
      pull_through_(pull_through) {}

HttpHandler::Lane Distribution::LaneOf(const HttpRequest& head) const {
  if (head.path == "/v2/token" || BasicCredentials(head.HeaderOr("authorization"))) {
    return HttpHandler::Lane::kSlow;
  }
  return HttpHandler::Lane::kFast;
}

HttpResponse Distribution::Answer(const HttpRequest& req) {
  HttpResponse res;
  if (!options_.enabled || served_ == nullptr) {
    res =
        DistErrorAnswer({404, "UNSUPPORTED", "this wharf does not serve images ([serve] enabled)"});
  } else if (req.method != "GET" && req.method != "HEAD") {
    res = DistErrorAnswer(
        {405, "UNSUPPORTED",
         "this registry is read-only: " + req.method + " is not supported (pull only)"});
    res.AddHeader("Allow", "GET, HEAD");
  } else if (req.path == "/v2/token") {
    res = Token(req);
  } else if (auto grant = Authorize(req); !grant) {
    Parsed p = ParsePath(req.path);
    res = Refused(req, grant.error(), p.name.empty() ? "" : "repository:" + p.name + ":pull");
  } else {
    res = Route(req, *grant);
  }
  res.AddHeader("Docker-Distribution-API-Version", "registry/2.0");
  return res;
}

HttpResponse Distribution::Refused(const HttpRequest& req, const serve::DistError& error,
                                   const std::string& scope) {
  HttpResponse res = DistErrorAnswer(error);
  if (error.status == 401) {
    std::string challenge = std::string("Bearer realm=\"") + (options_.tls ? "https" : "http") +
                            "://" + SafeHost(req) + "/v2/token\",service=\"wharf\"";
    if (!scope.empty()) challenge += ",scope=\"" + scope + "\"";
    res.AddHeader("WWW-Authenticate", challenge);
  }
  return res;
}

serve::DistResult<void> Distribution::Verify(const HttpRequest& req, const std::string& user,
                                             const std::string& password) {
  if (credentials_.Known(user, password)) return {};
  // One verification at a time: a client's parallel requests with the same new pair wait
  // for the first one's hash instead of each counting as an attempt in the throttle.
  std::lock_guard lock(verify_mu_);
  if (credentials_.Known(user, password)) return {};
  if (int64_t wait = throttle_.Begin(user, req.remote_addr, clock_.NowSeconds()); wait > 0) {
    return serve::DistFail(429, "TOOMANYREQUESTS",
                           "too many failed logins; try again in " + std::to_string(wait) + " s");
  }
  auto session = auth_.Authenticate(user, password);
  if (!session) {
    spdlog::warn("audit: registry login failed user=\"{}\" from={}", LogSafe(user),
                 req.remote_addr);
    const bool denied = session.error().code == Code::kUnauthenticated;
    return serve::DistFail(denied ? 401 : 500, denied ? "UNAUTHORIZED" : "UNKNOWN",
                           session.error().message);
  }
  throttle_.Success(user, req.remote_addr);
  credentials_.Remember(user, password);
  return {};
}

serve::DistResult<serve::PullGrant> Distribution::Authorize(const HttpRequest& req) {
  if (options_.anonymous) return serve::PullGrant{"", {}, true, true};
  const std::string header = req.HeaderOr("authorization");
  if (auto basic = BasicCredentials(header)) {
    auto verified = Verify(req, basic->first, basic->second);
    if (!verified) return std::unexpected(verified.error());
    return serve::PullGrant{basic->first, {}, true, true};
  }
  std::string token = BearerToken(header);
  if (token.empty()) return serve::DistFail(401, "UNAUTHORIZED", "authentication required");
  auto grant = tokens_.Check(token);
  if (!grant) return serve::DistFail(401, "UNAUTHORIZED", grant.error().message);
  return *grant;
}

// GET /v2/token?service=wharf&scope=repository:NAME:pull[&scope=...], Basic credentials.
HttpResponse Distribution::Token(const HttpRequest& req) {
  serve::PullGrant grant;
  if (!options_.anonymous) {
    auto basic = BasicCredentials(req.HeaderOr("authorization"));
    if (!basic) {
      HttpResponse res =
          DistErrorAnswer({401, "UNAUTHORIZED", "a token needs a wharf user's credentials"});
      res.AddHeader("WWW-Authenticate", "Basic realm=\"wharf\"");
      return res;
    }
    if (auto verified = Verify(req, basic->first, basic->second); !verified) {
      return DistErrorAnswer(verified.error());
    }
    grant.username = basic->first;
  }
  for (const auto& [key, value] : req.params) {
    if (key != "scope") continue;
    std::string_view scopes = value;  // several may come in one parameter, space-separated
    for (size_t at = 0; at <= scopes.size();) {
      size_t end = std::min(scopes.find(' ', at), scopes.size());
      std::string scope(scopes.substr(at, end - at)), name;
      at = end + 1;
      if (scope == "registry:catalog:*") grant.catalog = true;
      if (!serve::ParsePullScope(scope, name)) continue;
      if (auto canonical = serve::CanonicalRepository(name, "")) {
        grant.repositories.insert(*canonical);
      }
    }
  }
  auto issued = tokens_.Issue(std::move(grant));
  return JsonAnswer(200, {{"token", issued.token},
                          {"access_token", issued.token},
                          {"expires_in", issued.expires_in},
                          {"issued_at", Rfc3339(issued.issued_at)}});
}

HttpResponse Distribution::Route(const HttpRequest& req, const serve::PullGrant& grant) {
  Parsed p = ParsePath(req.path);
  if (p.kind == Parsed::kBase) return JsonAnswer(200, nlohmann::json::object());
  if (p.kind == Parsed::kNone) {
    return DistErrorAnswer({404, "NAME_UNKNOWN", "no such endpoint: " + req.path});
  }
  if (p.kind == Parsed::kCatalog) {
    if (!grant.catalog) {
      return Refused(req, {401, "UNAUTHORIZED", "the token does not cover the catalog"},
                     "registry:catalog:*");
    }
    auto names = served_->Repositories();
    if (!names) return DistErrorAnswer(names.error());
    return Listing(req, "repositories", "", std::move(*names), "/v2/_catalog");
  }
  auto repository = serve::CanonicalRepository(p.name, req.Param("ns"));
  if (!repository) return DistErrorAnswer(repository.error());
  if (!grant.any_repository) {
    auto scoped = serve::CanonicalRepository(p.name, "");
    if (!scoped || !grant.repositories.contains(*scoped)) {
      return Refused(req, {401, "UNAUTHORIZED", "the token does not cover repository " + p.name},
                     "repository:" + p.name + ":pull");
    }
  }
  switch (p.kind) {
    case Parsed::kManifest:
      return Manifest(req, grant, *repository, p.reference);
    case Parsed::kBlob:
      return Blob(req, *repository, p.reference);
    default: {
      auto tags = served_->Tags(*repository);
      if (!tags) return DistErrorAnswer(tags.error());
      return Listing(req, "tags", p.name, std::move(*tags), "/v2/" + p.name + "/tags/list");
    }
  }
}

HttpResponse Distribution::Manifest(const HttpRequest& req, const serve::PullGrant& grant,
                                    const std::string& repository, const std::string& reference) {
  auto answer = [if_none_match = req.HeaderOr("if-none-match")](serve::ServedManifest m) {
    HttpResponse res;
    res.AddHeader("Docker-Content-Digest", m.digest);
    res.AddHeader("ETag", "\"" + m.digest + "\"");
    if (if_none_match == "\"" + m.digest + "\"") {
      res.status = 304;
      return res;
    }
    res.SetBody(std::move(m.bytes), m.media_type);
    return res;
  };
  auto manifest = served_->Manifest(repository, reference);
  if (manifest) return answer(std::move(*manifest));
  const auto& code = manifest.error().code;
  if (pull_through_ != nullptr && (code == "NAME_UNKNOWN" || code == "MANIFEST_UNKNOWN") &&
      reference.find(':') == std::string::npos) {
    return pull_through_->Start(repository, reference, grant.username, req.remote_addr,
                                std::move(answer));
  }
  return DistErrorAnswer(manifest.error());
}

HttpResponse Distribution::Blob(const HttpRequest& req, const std::string& repository,
                                const std::string& digest) {
  auto blob = served_->Blob(repository, digest);
  if (!blob) return DistErrorAnswer(blob.error());
  auto file = std::make_shared<FileBody>();
  file->fd.reset(::open(blob->path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file->fd) {  // deleted since the index was read
    return DistErrorAnswer({404, "BLOB_UNKNOWN", "blob " + digest + " is not in the store"});
  }
  const uint64_t size = static_cast<uint64_t>(blob->size);
  HttpResponse res;
  res.content_type = "application/octet-stream";
  res.AddHeader("Docker-Content-Digest", digest);
  res.AddHeader("ETag", "\"" + digest + "\"");
  res.AddHeader("Accept-Ranges", "bytes");
  res.AddHeader("Cache-Control", "max-age=31536000");
  ByteRange range = ParseRange(req.HeaderOr("range"), size);
  if (range.kind == ByteRange::kUnsatisfiable) {
    HttpResponse refused = DistErrorAnswer(
        {416, "RANGE_INVALID", "range " + req.HeaderOr("range") + " is past the blob's end"});
    refused.status = 416;
    refused.AddHeader("Content-Range", "bytes */" + std::to_string(size));
    return refused;
  }
  file->length = size;
  if (range.kind == ByteRange::kPart) {
    res.status = 206;
    file->offset = range.first;
    file->length = range.length;
    res.AddHeader("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                       std::to_string(range.first + range.length - 1) + "/" +
                                       std::to_string(size));
  }
  res.file = std::move(file);
  return res;
}

// The tags or the catalog: after `last`, at most `n`, with a Link to the next page.
HttpResponse Distribution::Listing(const HttpRequest& req, const char* key, const std::string& name,
                                   std::vector<std::string> items, const std::string& path) {
  int64_t n = kMaxPage;
  if (req.HasParam("n")) {
    std::string text = req.Param("n");
    if (text.empty() || text.size() > 6 || !std::all_of(text.begin(), text.end(), ::isdigit)) {
      return DistErrorAnswer(
          {400, "PAGINATION_NUMBER_INVALID", "n must be a number; got \"" + text + "\""});
    }
    n = std::min<int64_t>(std::stoll(text), kMaxPage);
  }
  auto begin = items.begin();
  if (req.HasParam("last")) begin = std::upper_bound(items.begin(), items.end(), req.Param("last"));
  auto end = begin + std::min<int64_t>(n, items.end() - begin);
  std::vector<std::string> page(begin, end);
  nlohmann::json body = {{key, page}};
  if (!name.empty()) body["name"] = name;
  HttpResponse res = JsonAnswer(200, body);
  if (end != items.end() && !page.empty()) {
    res.AddHeader("Link", "<" + path + "?n=" + std::to_string(n) + "&last=" + page.back() +
                              ">; rel=\"next\"");
  }
  return res;
}

}  // namespace wharf::api
