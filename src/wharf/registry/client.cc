#include "wharf/registry/client.h"

#include <spdlog/spdlog.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "wharf/base/strings.h"
#include "wharf/registry/authenticator.h"
#include "wharf/registry/endpoints.h"
#include "wharf/registry/http_transfer.h"
#include "wharf/registry/link_header.h"
#include "wharf/registry/registry_errors.h"
#include "wharf/registry/retry.h"

namespace wharf::registry {

namespace {

// Every manifest kind we can read; schema1 last so that old registries still answer and the
// caller can say what it got.
constexpr std::string_view kManifestAccept =
    "Accept: application/vnd.oci.image.index.v1+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

constexpr int kMaxRedirects = 5;
// A mirror that failed with Unavailable is skipped for this long, so that a dead mirror costs
// one connect timeout, not one per request.
constexpr std::chrono::seconds kMirrorRest{30};
constexpr int kTagsPageSize = 1000;
constexpr int kMaxTagPages = 10000;

bool Is2xx(long status) { return status >= 200 && status < 300; }

bool IsRedirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// "application/json; charset=utf-8" → "application/json".
std::string MediaTypeOf(std::string_view content_type) {
  return Lower(Trim(content_type.substr(0, content_type.find(';'))));
}

// The first byte position of "Content-Range: bytes 100-199/200", or -1.
int64_t ContentRangeStart(std::string_view value) {
  if (!value.starts_with("bytes ")) return -1;
  value.remove_prefix(6);
  int64_t start = 0;
  if (value.empty() || !std::isdigit(static_cast<unsigned char>(value.front()))) return -1;
  while (!value.empty() && std::isdigit(static_cast<unsigned char>(value.front()))) {
    start = start * 10 + (value.front() - '0');
    value.remove_prefix(1);
  }
  return value.starts_with('-') ? start : -1;
}

// The count at the front of a header value: "76;w=21600" (Docker Hub's RateLimit-Remaining
// and RateLimit-Limit) → 76, "1234" (Content-Length) → 1234; nullopt for anything else.
std::optional<int64_t> LeadingCount(std::string_view value) {
  value = Trim(value);
  int64_t count = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), count);
  if (ec != std::errc() || end == value.data() || count < 0) return std::nullopt;
  std::string_view rest = Trim(value.substr(end - value.data()));
  if (!rest.empty() && !rest.starts_with(';')) return std::nullopt;
  return count;
}

}  // namespace

// A repository on one registry or mirror, resolved once per try.
struct Target {
  const reference::Reference& ref;
  std::string host_key;        // "127.0.0.1:5000", the Options::hosts key
  std::string repository_url;  // "http://127.0.0.1:5000/v2/library/ubuntu"
  std::string origin;          // where credentials may go: UrlOrigin(repository_url)
  bool mirror = false;

  // "registry 127.0.0.1:5000" or "mirror 127.0.0.1:5001", naming it in messages.
  std::string Peer() const { return (mirror ? "mirror " : "registry ") + host_key; }
};

// A request for a small answer kept in memory: a manifest, a config, a page of tags.
struct SmallRequest {
  std::string url;
  std::string_view accept;  // the whole header line, "Accept: ..."
  bool decode_content = true;
  bool head = false;  // HEAD: the status and headers only
};

// Where a request may be answered: a mirror's base URL, or "" for the reference's registry.
using Source = std::string;

// True for failures of a source (missing, refused, broken, lying) after which the next
// source may do better; not for the caller's own errors or a stop.
bool FallsThrough(const Status& status) {
  return status.code != Code::kCancelled && status.code != Code::kInternal &&
         status.code != Code::kInvalidArgument;
}

struct Client::Impl {
  explicit Impl(Options o)
      : options(std::move(o)), endpoints(options), auth(endpoints), retry(options) {}

  Options options;
  Endpoints endpoints;
  Authenticator auth;
  RetryPolicy retry;
  std::mutex mu;
  std::map<std::string, Clock::SteadyTime> mirror_rest_until;  // on options.clock

  // `cancelled` cuts the scheme probe of a host that allows plain HTTP (see BaseUrl).
  Target TargetFor(const reference::Reference& ref, const Source& source = "",
                   const std::function<bool()>& cancelled = {}) {
    if (source.empty()) {
      std::string url = endpoints.BaseUrl(ref.domain, cancelled) + "/v2/" + ref.path;
      std::string origin = UrlOrigin(url);
      return Target{ref, endpoints.HostKey(ref.domain), std::move(url), std::move(origin)};
    }
    std::string base = source;
    while (base.ends_with('/')) base.pop_back();
    std::string url = base + "/v2/" + ref.path;
    std::string origin = UrlOrigin(url);
    return Target{ref, UrlHostPort(url), std::move(url), std::move(origin), /*mirror=*/true};
  }

  // The mirrors to ask for `ref` (docker.io only, minus those resting), then its registry.
  std::vector<Source> SourcesFor(const reference::Reference& ref) {
    std::vector<Source> sources;
    if (ref.domain == reference::kDockerHubDomain) {
      const auto now = options.clock->SteadyNow();
      std::lock_guard lock(mu);
      for (const std::string& mirror : endpoints.Mirrors()) {
        auto it = mirror_rest_until.find(mirror);
        if (it == mirror_rest_until.end() || now >= it->second) sources.push_back(mirror);
      }
    }
    sources.emplace_back();
    return sources;
  }

  // Asks `once` (const Target&, RetryAdvice& → Result<T>) of each source in turn: a mirror
  // once, the registry up to Options::request_tries times. The first success wins; a mirror's
  // failure is logged and falls through. The registry's failure is returned, naming the
  // mirrors' failures too. Unless `what` is empty, a Cancelled (which, without a sink, only
  // `cancelled` causes) is reworded by CancelledWhile to name `what` and the source.
  template <typename Once>
  auto FromSources(const reference::Reference& ref, const std::function<bool()>& cancelled,
                   const std::string& what, Once&& once)
      -> decltype(once(std::declval<const Target&>(), std::declval<RetryAdvice&>())) {
    std::vector<Source> sources = SourcesFor(ref);
    std::string mirror_failures;
    for (size_t i = 0;; ++i) {
      const bool last = i + 1 == sources.size();
      std::string peer;
      auto got = Retry(retry, last ? retry.tries() : 1, cancelled, [&](RetryAdvice& advice) {
        Target target = TargetFor(ref, sources[i], cancelled);
        peer = target.Peer();
        return once(target, advice);
      });
      if (!got && !what.empty() && got.error().code == Code::kCancelled) {
        return Error(CancelledWhile(what, peer, got.error()));
      }
      if (got || last || !FallsThrough(got.error())) {
        if (!got && !mirror_failures.empty()) {
          got.error().message += " (mirrors failed first: " + mirror_failures + ")";
        }
        return got;
      }
      spdlog::warn("{}; trying the next source", got.error().message);
      if (!mirror_failures.empty()) mirror_failures += "; ";
      mirror_failures += got.error().message;
      if (got.error().code == Code::kUnavailable) {
        std::lock_guard lock(mu);
        mirror_rest_until[sources[i]] = options.clock->SteadyNow() + kMirrorRest;
      }
    }
  }

  // One try at `request`, following redirects: the Authorization value goes only to the
  // registry's own origin, never to another host a redirect (or a Link) points at. Returns
  // the last hop's response; `failure` says what kind of transport failure ended it.
  Result<HttpResponse> FollowRedirects(const Target& target, const HttpRequest& request,
                                       const std::string& authorization,
                                       TransportFailure& failure) {
    std::string url = request.url;
    for (int hop = 0; hop <= kMaxRedirects; ++hop) {
      bool same_origin = UrlOrigin(url) == target.origin;
      std::string peer =
          same_origin ? target.Peer() : target.Peer() + ", redirected to " + UrlHostPort(url);
      HttpRequest hop_request = endpoints.NewRequest(url, std::move(peer));
      hop_request.headers = request.headers;
      hop_request.head = request.head;
      hop_request.decode_content = request.decode_content;
      hop_request.max_body_bytes = request.max_body_bytes;
      hop_request.sink = request.sink;
      hop_request.body_policy = request.body_policy;
      hop_request.cancelled = request.cancelled;
      if (same_origin && !authorization.empty()) {
        hop_request.headers.push_back("Authorization: " + authorization);
      }
      auto response = PerformHttp(hop_request, &failure);
      if (!response) return response;
      std::string location = response->headers.Get("location");
      if (!IsRedirect(response->status) || location.empty()) return response;
      auto next = ResolveUrl(url, location);
      if (!next) return Unavailable(hop_request.peer + ": bad redirect to " + location);
      url = std::move(*next);
    }
    return Unavailable(target.Peer() + ": more than " + std::to_string(kMaxRedirects) +
                       " redirects");
  }

  // Sends `request` to `target`, authenticating as it demands: first with what is known for
  // the host (a cached token), then once more answering a 401's challenge (with a fresh
  // token). A 401 that remains is returned as a response (StatusForResponse makes it
  // Unauthenticated). One try as far as transport errors go: `advice` says whether another
  // may help.
  Result<HttpResponse> Send(const Target& target, const HttpRequest& request, RetryAdvice& advice) {
    const std::string scope = PullScope(target.ref.path);
    std::string authorization = auth.Known(target.host_key, scope);
    for (int round = 0;; ++round) {
      TransportFailure failure = TransportFailure::kNone;
      auto response = FollowRedirects(target, request, authorization, failure);
      if (!response) {
        advice = AdviceForFailure(response.error(), failure);
        return response;
      }
      if (response->status != 401 || round == 1) return response;
      // Only the registry's own 401 is answered, not one from a host it redirected to.
      if (UrlOrigin(response->url) != target.origin) return response;
      std::vector<Challenge> challenges;
      for (const std::string& value : response->headers.GetAll("www-authenticate")) {
        auto parsed = ParseWwwAuthenticate(value);
        challenges.insert(challenges.end(), parsed.begin(), parsed.end());
      }
      auto next = auth.Answer(target.host_key, request.url, challenges, scope, authorization,
                              request.cancelled);
      if (!next) {
        // Not transient: a token server that failed transiently was retried already.
        std::string details = DescribeRegistryError(response->body);
        Status status = std::move(next).error();
        if (!details.empty() && status.code != Code::kCancelled) status.message += ": " + details;
        return Error(std::move(status));
      }
      authorization = std::move(*next);
    }
  }

  // One try at GETting a body of at most max_manifest_bytes into memory (or at a HEAD of it),
  // polling `cancelled`; non-2xx answers become errors about `subject`.
  Result<HttpResponse> GetSmallOnce(const Target& target, const SmallRequest& small,
                                    const Subject& subject, const std::function<bool()>& cancelled,
                                    RetryAdvice& advice) {
    HttpRequest request;
    request.url = small.url;
    request.head = small.head;
    request.cancelled = cancelled;
    request.headers.emplace_back(small.accept);
    request.decode_content = small.decode_content;
    request.max_body_bytes = options.max_manifest_bytes;
    auto response = Send(target, request, advice);
    if (!response) {
      if (response.error().code == Code::kTooLarge) {
        return TooLarge(target.Peer() + ": " + subject.noun + " of " + subject.name +
                        " larger than " + FormatSize(options.max_manifest_bytes));
      }
      return Error(std::move(response).error());
    }
    if (!Is2xx(response->status)) {
      advice = AdviceForResponse(*response);
      return Error(StatusForResponse(*response, target.Peer(), subject));
    }
    return response;
  }

  // One try at the manifest `tag_or_digest` of the target's repository, or at its headers.
  Result<HttpResponse> ManifestOnce(const Target& target, std::string_view tag_or_digest, bool head,
                                    const Subject& subject, const std::function<bool()>& cancelled,
                                    RetryAdvice& advice) {
    return GetSmallOnce(target,
                        {.url = target.repository_url + "/manifests/" + std::string(tag_or_digest),
                         .accept = kManifestAccept,
                         // A HEAD's Content-Length is then the manifest's own size.
                         .decode_content = !head,
                         .head = head},
                        subject, cancelled, advice);
  }

  // One try at streaming a blob from `offset` on (see FetchBlob).
  Result<BlobFetchResult> FetchBlobOnce(const Target& target, const Digest& digest, int64_t offset,
                                        const BlobSink& sink,
                                        const std::function<bool()>& cancelled,
                                        RetryAdvice& advice) {
    HttpRequest request;
    request.url = target.repository_url + "/blobs/" + digest.str();
    if (offset > 0) request.headers.push_back("Range: bytes=" + std::to_string(offset) + "-");
    request.sink = sink;
    request.cancelled = cancelled;
    // Bytes reach the sink only from where the caller asked: a server that ignores the Range
    // (200, or a 206 starting elsewhere) is cut off before the first byte.
    request.body_policy = [offset](const HttpResponse& head) {
      // A 416's body is not needed, and docker-registry's can be malformed (a 416 for a Range
      // from the end of a blob keeps the blob's Content-Length and closes the connection
      // after a shorter body).
      if (offset > 0 && head.status == 416) return BodyAction::kRefuse;
      if (!Is2xx(head.status)) return BodyAction::kBuffer;
      if (offset == 0) return BodyAction::kStream;
      if (head.status == 206 && ContentRangeStart(head.headers.Get("content-range")) == offset) {
        return BodyAction::kStream;
      }
      return BodyAction::kRefuse;
    };
    auto response = Send(target, request, advice);
    if (!response) {
      // A transport failure names the peer; say which blob it cut (a sink's error is its own).
      Status status = std::move(response).error();
      if (status.code == Code::kUnavailable) {
        status.message += " (blob " + digest.str() + " of " + target.ref.Name() + " from byte " +
                          std::to_string(offset) + ")";
      }
      return Error(std::move(status));
    }
    if (response->body_refused) {  // only with offset > 0: a 416, or the Range ignored
      return BlobFetchResult{.range_honoured = false};
    }
    if (!Is2xx(response->status)) {
      advice = AdviceForResponse(*response);
      return Error(
          StatusForResponse(*response, target.Peer(), {"blob " + digest.str(), target.ref.Name()}));
    }
    return BlobFetchResult{.range_honoured = true};
  }
};

Client::Client(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Client::~Client() = default;

std::string Client::BaseUrl(std::string_view domain) const {
  return impl_->endpoints.BaseUrl(domain);
}

Result<ManifestResponse> Client::GetManifest(const reference::Reference& ref,
                                             std::string_view tag_or_digest,
                                             const std::function<bool()>& cancelled) {
  if (tag_or_digest.empty()) return InvalidArgument("GetManifest: empty tag or digest");
  std::optional<Digest> wanted;
  if (tag_or_digest.find(':') != std::string_view::npos) {
    WHARF_ASSIGN_OR_RETURN(auto parsed, Digest::Parse(tag_or_digest));
    wanted = parsed;
  } else if (!reference::IsValidTag(tag_or_digest)) {
    return InvalidArgument("invalid tag: " + std::string(tag_or_digest.substr(0, 200)));
  }
  Subject subject{"manifest " + std::string(tag_or_digest), ref.Name()};
  const std::string what =
      "the manifest of " + ref.Name() + (wanted ? "@" : ":") + std::string(tag_or_digest);
  return impl_->FromSources(
      ref, cancelled, what,
      [&](const Target& target, RetryAdvice& advice) -> Result<ManifestResponse> {
        WHARF_ASSIGN_OR_RETURN(
            auto response,
            impl_->ManifestOnce(target, tag_or_digest, /*head=*/false, subject, cancelled, advice));
        ManifestResponse out;
        out.body = std::move(response.body);
        out.media_type = MediaTypeOf(response.headers.Get("content-type"));
        WHARF_RETURN_IF_ERROR(
            CheckManifestAnswer(target.Peer(), subject, out.media_type, out.body, /*head=*/false));
        out.digest = Digest::Of(out.body);
        if (wanted && out.digest != *wanted) {
          return DataLoss(target.Peer() + " sent a manifest with digest " + out.digest.str() +
                          " for " + subject.noun + " of " + subject.name);
        }
        return out;
      });
}

Result<ManifestHead> Client::HeadManifest(const reference::Reference& ref, std::string_view tag,
                                          const std::function<bool()>& cancelled) {
  if (!reference::IsValidTag(tag)) {
    return InvalidArgument("invalid tag: " + std::string(tag.substr(0, 200)));
  }
  Subject subject{"manifest " + std::string(tag), ref.Name()};
  return impl_->FromSources(
      ref, cancelled, "the manifest of " + ref.Name() + ":" + std::string(tag),
      [&](const Target& target, RetryAdvice& advice) -> Result<ManifestHead> {
        WHARF_ASSIGN_OR_RETURN(auto response, impl_->ManifestOnce(target, tag, /*head=*/true,
                                                                  subject, cancelled, advice));
        ManifestHead out;
        WHARF_RETURN_IF_ERROR(CheckManifestAnswer(
            target.Peer(), subject, MediaTypeOf(response.headers.Get("content-type")), "",
            /*head=*/true));
        if (auto digest = Digest::Parse(response.headers.Get("docker-content-digest"))) {
          out.digest = *digest;
          out.size = LeadingCount(response.headers.Get("content-length")).value_or(-1);
        } else {
          // The distribution spec lets a registry leave the digest out; the body has it.
          WHARF_ASSIGN_OR_RETURN(response, impl_->ManifestOnce(target, tag, /*head=*/false, subject,
                                                               cancelled, advice));
          WHARF_RETURN_IF_ERROR(
              CheckManifestAnswer(target.Peer(), subject,
                                  MediaTypeOf(response.headers.Get("content-type")), response.body,
                                  /*head=*/false));
          out.digest = Digest::Of(response.body);
          out.size = static_cast<int64_t>(response.body.size());
        }
        out.media_type = MediaTypeOf(response.headers.Get("content-type"));
        out.ratelimit_remaining = LeadingCount(response.headers.Get("ratelimit-remaining"));
        out.ratelimit_limit = LeadingCount(response.headers.Get("ratelimit-limit"));
        return out;
      });
}

Result<std::string> Client::GetSmallBlob(const reference::Reference& ref, const Digest& digest,
                                         const std::function<bool()>& cancelled) {
  Subject subject{"blob " + digest.str(), ref.Name()};
  return impl_->FromSources(
      ref, cancelled, "the blob " + digest.str() + " of " + ref.Name(),
      [&](const Target& target, RetryAdvice& advice) -> Result<std::string> {
        const SmallRequest request{.url = target.repository_url + "/blobs/" + digest.str(),
                                   .accept = "Accept: */*",
                                   .decode_content = false};
        WHARF_ASSIGN_OR_RETURN(auto response,
                               impl_->GetSmallOnce(target, request, subject, cancelled, advice));
        if (Digest got = Digest::Of(response.body); got != digest) {
          return DataLoss(target.Peer() + " sent bytes with digest " + got.str() + " for " +
                          subject.noun + " of " + subject.name);
        }
        return std::move(response.body);
      });
}

Result<BlobFetchResult> Client::FetchBlob(const reference::Reference& ref, const Digest& digest,
                                          const BlobFetch& fetch, const BlobSink& sink) {
  // Bytes delivered by every try so far: a try after a cut continues from there.
  int64_t delivered = 0;
  BlobSink counting = [&](const char* data, size_t n) -> Result<void> {
    WHARF_RETURN_IF_ERROR(sink(data, n));
    delivered += static_cast<int64_t>(n);
    return {};
  };
  // A stop keeps its words: the sink's own Cancelled must come back as it was returned.
  return impl_->FromSources(ref, fetch.cancelled, /*what=*/"",
                            [&](const Target& target, RetryAdvice& advice) {
                              return impl_->FetchBlobOnce(target, digest, fetch.offset + delivered,
                                                          counting, fetch.cancelled, advice);
                            });
}

Result<std::vector<std::string>> Client::ListTags(const reference::Reference& ref,
                                                  const std::function<bool()>& cancelled) {
  Subject subject{"tag list", ref.Name()};
  Target target = impl_->TargetFor(ref, "", cancelled);
  std::string url = target.repository_url + "/tags/list?n=" + std::to_string(kTagsPageSize);
  std::vector<std::string> tags;
  std::set<std::string> visited;
  for (int page = 0; page < kMaxTagPages && visited.insert(url).second; ++page) {
    auto response = Retry(impl_->retry, impl_->retry.tries(), cancelled, [&](RetryAdvice& advice) {
      return impl_->GetSmallOnce(target, {.url = url, .accept = "Accept: application/json"},
                                 subject, cancelled, advice);
    });
    if (!response && response.error().code == Code::kCancelled) {
      return Error(
          CancelledWhile("the tag list of " + ref.Name(), target.Peer(), response.error()));
    }
    if (!response) return Error(std::move(response).error());
    try {
      auto doc = nlohmann::json::parse(response->body);
      // "tags" is null for a repository without tags.
      if (doc.is_object() && doc.contains("tags") && doc["tags"].is_array()) {
        for (const auto& tag : doc["tags"]) {
          if (tag.is_string()) tags.push_back(tag.get<std::string>());
        }
      }
    } catch (const nlohmann::json::exception& e) {
      return Unavailable(target.Peer() + ": invalid tag list of " + subject.name + ": " + e.what());
    }
    std::string next = NextLinkTarget(response->headers.GetAll("link"));
    if (next.empty()) break;
    auto resolved = ResolveUrl(response->url, next);
    if (!resolved) return Unavailable(target.Peer() + ": bad Link header: " + next);
    url = std::move(*resolved);
  }
  return tags;
}

}  // namespace wharf::registry
