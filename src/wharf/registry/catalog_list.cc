#include "wharf/registry/catalog_list.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>

#include "wharf/registry/authenticator.h"
#include "wharf/registry/endpoints.h"
#include "wharf/registry/http_transfer.h"
#include "wharf/registry/link_header.h"
#include "wharf/registry/registry_errors.h"

namespace wharf::registry {

namespace {

constexpr char kCatalogScope[] = "registry:catalog:*";
constexpr size_t kMaxPageBytes = 8 << 20;
constexpr int kMaxPages = 10000;

std::vector<Challenge> ChallengesOf(const HttpResponse& response) {
  std::vector<Challenge> out;
  for (const std::string& value : response.headers.GetAll("www-authenticate")) {
    auto parsed = ParseWwwAuthenticate(value);
    out.insert(out.end(), parsed.begin(), parsed.end());
  }
  return out;
}

}  // namespace

struct CatalogLister::Impl {
  explicit Impl(Options o) : options(std::move(o)), endpoints(options), auth(endpoints) {}

  Options options;  // before endpoints, which keeps a reference to it
  Endpoints endpoints;
  Authenticator auth;

  // One page: the request as known credentials allow, then once more answering a 401.
  Result<HttpResponse> Get(const std::string& url, const std::string& host_key,
                           const CatalogListing& listing, const std::function<bool()>& cancelled) {
    std::string authorization = auth.Known(host_key, kCatalogScope);
    for (int round = 0;; ++round) {
      HttpRequest request = endpoints.NewRequest(url, "registry " + host_key);
      request.headers.push_back("Accept: application/json");
      if (!authorization.empty()) request.headers.push_back("Authorization: " + authorization);
      request.decode_content = true;
      request.max_body_bytes = kMaxPageBytes;
      if (listing.timeout_s > 0) request.stall_timeout_s = listing.timeout_s;
      request.cancelled = cancelled;
      auto response = PerformHttp(request);
      if (!response || response->status != 401 || round == 1) return response;
      auto next = auth.Answer(host_key, url, ChallengesOf(*response), kCatalogScope, authorization,
                              cancelled);
      if (!next) {
        Status status = std::move(next).error();
        std::string details = DescribeErrorBody(response->body);
        if (!details.empty() && status.code != Code::kCancelled) {
          status.message += ": " + details;
        }
        return Error(std::move(status));
      }
      authorization = std::move(*next);
    }
  }
};

CatalogLister::CatalogLister(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
CatalogLister::~CatalogLister() = default;

Result<std::vector<std::string>> CatalogLister::Repositories(const std::string& base_url,
                                                             const CatalogListing& listing) {
  Clock& clock = *impl_->options.clock;
  const auto deadline = clock.SteadyNow() + std::chrono::seconds(listing.timeout_s);
  auto past_deadline = [&] { return listing.timeout_s > 0 && clock.SteadyNow() >= deadline; };
  auto cancelled = [&] { return past_deadline() || (listing.cancelled && listing.cancelled()); };

  const std::string host_key = UrlHostPort(base_url);
  if (host_key.empty()) return InvalidArgument("not a registry URL: " + base_url);
  const std::string peer = "registry " + host_key;
  std::string url = base_url + "/v2/_catalog?n=" + std::to_string(listing.page_size);
  std::vector<std::string> names;
  std::set<std::string> visited;
  for (int page = 0; page < kMaxPages && visited.insert(url).second; ++page) {
    auto response = impl_->Get(url, host_key, listing, cancelled);
    if (!response && response.error().code == Code::kCancelled && past_deadline()) {
      return Unavailable(peer + ": the repository catalog did not arrive within " +
                         std::to_string(listing.timeout_s) + " s");
    }
    if (!response && response.error().code == Code::kCancelled) {
      return Error(CancelledWhile("the repository catalog", peer, response.error()));
    }
    if (!response) return Error(std::move(response).error());
    if (response->status < 200 || response->status >= 300) {
      return Error(StatusForResponse(*response, peer, {"repository catalog", host_key}));
    }
    auto doc = nlohmann::json::parse(response->body, nullptr, false);
    if (!doc.is_object() || !doc.contains("repositories")) {
      return Unavailable(peer + ": GET /v2/_catalog: the answer is not a repository catalog");
    }
    // "repositories" is null on an empty registry.
    if (doc["repositories"].is_array()) {
      for (const auto& name : doc["repositories"]) {
        if (!name.is_string()) continue;
        names.push_back(name.get<std::string>());
        if (names.size() >= listing.max_names) return names;
      }
    }
    std::string next = NextLinkTarget(response->headers.GetAll("link"));
    if (next.empty()) break;
    auto resolved = ResolveUrl(url, next);
    // Credentials go with every page, so a page elsewhere is refused.
    if (!resolved || UrlOrigin(*resolved) != UrlOrigin(base_url)) {
      return Unavailable(peer + ": bad Link header: " + next);
    }
    url = std::move(*resolved);
  }
  return names;
}

}  // namespace wharf::registry
