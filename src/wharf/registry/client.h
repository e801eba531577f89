// A client of the OCI distribution API (Docker Registry HTTP API v2) over libcurl.
//
// It maps a reference's domain to an endpoint ("docker.io" → Options::dockerhub_registry),
// negotiates the scheme (https; plain http only for hosts marked insecure or on loopback, as
// Docker allows), authenticates (anonymous, Basic from per-host credentials, Bearer tokens
// obtained from the WWW-Authenticate challenge and cached per host and scope; a 401 to a
// cached token is answered once with a fresh one), and streams blobs with Range resume.
//
// Retries: each request is tried up to Options::request_tries times while it fails transiently
// (HTTP 408/429/5xx, connection refused or reset, a cut or stalled transfer) with exponential
// backoff, honouring Retry-After (see retry.h); a blob cut half-way continues with a Range
// request from the bytes already delivered. Certificate failures are not retried.
//
// Mirrors: for docker.io references, manifests and blobs are asked of Options::mirrors (or the
// directory's, read at each call) in order, once each, before dockerhub_registry; any failure (or a
// missing image) falls through to the next; a mirror that failed with Unavailable is skipped for
// the next 30 s (on Options::clock). Each host gets only its own credentials (Options::hosts[its
// host:port]). What a mirror serves is trusted through digests: blobs and manifests asked by digest
// are verified; a tag a mirror resolves is taken as it says, as Docker does.
//
// Errors: NotFound for a 404 / MANIFEST_UNKNOWN / NAME_UNKNOWN / BLOB_UNKNOWN; Unauthenticated
// for a 401 after authentication was tried; PermissionDenied for a 403; Unavailable for other
// HTTP failures, connection and TLS errors (the message names the host and carries the
// registry's error code/message); TooLarge for a manifest over the size limit; DataLoss for
// bytes that do not match the digest asked for; Cancelled when the caller's `cancelled` hook
// (BlobFetch::cancelled, or the argument of the other calls) says so.
// With mirrors, the error is dockerhub_registry's, with the mirrors' failures appended.
// Thread-safe: calls may run concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/base/clock.h"
#include "wharf/base/digest.h"
#include "wharf/base/status.h"
#include "wharf/reference/reference.h"
#include "wharf/registry/host_directory.h"

namespace wharf::registry {

struct Options {
  // Where docker.io images are pulled from (scheme included).
  std::string dockerhub_registry = "https://registry-1.docker.io";
  // Pull-through mirrors for docker.io images ("https://mirror.example.com", scheme
  // included, an optional path prefix before /v2/), tried in order before the registry.
  std::vector<std::string> mirrors;
  // Per "host[:port]" settings.
  std::map<std::string, HostOptions> hosts;
  // When set, the live source of per-host settings and mirrors, shared by every client made
  // with these options; `hosts` and `mirrors` are then ignored (see host_directory.h).
  std::shared_ptr<HostDirectory> directory;
  // Give up connecting after this long.
  int connect_timeout_s = 15;
  // A transfer that delivers no bytes for this long is aborted.
  int stall_timeout_s = 30;
  // Manifests and configs larger than this are refused.
  size_t max_manifest_bytes = 4 << 20;
  // Tries per HTTP request while it fails transiently (see the top of this file); 1 = no
  // retries. (A blob whose server ignores Range starts over: DockerFetcherOptions counts that.)
  int request_tries = 5;
  // The first wait before a retry; it doubles per try up to max_backoff_ms.
  int backoff_ms = 250;
  int max_backoff_ms = 8000;
  // A longer Retry-After is cut to this.
  int max_retry_after_s = 60;
  std::string user_agent = "wharf/0.1";
  // The time of the waits between tries, token expiry, mirror rests and the time limits of
  // catalog listings and HttpGetter requests (CatalogListing::timeout_s,
  // HttpGetRequest::total_timeout_s); tests pass a FakeClock. libcurl's own timeouts
  // (connect_timeout_s, stall_timeout_s) are real time whatever this says. Never null; it must
  // outlive every client made with these options.
  Clock* clock = &Clock::Default();
};

// The settings of exactly `host` ("host[:port]") under `options`: from its directory when
// set, else from its hosts; defaults when the host has none.
HostOptions HostSettings(const Options& options, std::string_view host);

struct ManifestResponse {
  std::string body;
  std::string media_type;  // from Content-Type
  Digest digest;           // sha256 of body (always computed locally)
};

// What a tag names at its registry, from a HEAD of its manifest (Docker Hub does not count a
// HEAD against the pull rate limit; a GET it does).
struct ManifestHead {
  Digest digest;           // Docker-Content-Digest
  std::string media_type;  // Content-Type (may be empty)
  int64_t size = -1;       // Content-Length, -1 when absent
  // Docker Hub's rate-limit headers ("RateLimit-Remaining: 76;w=21600"), when sent.
  std::optional<int64_t> ratelimit_remaining;
  std::optional<int64_t> ratelimit_limit;
};

// Receives a blob's bytes in order. Returning an error aborts the transfer with that error.
using BlobSink = std::function<Result<void>(const char* data, size_t n)>;

struct BlobFetch {
  int64_t offset = 0;  // ask for bytes from here (Range); 0 = whole blob
  // Polled during transfers and waits between tries; true ends the fetch with Cancelled.
  std::function<bool()> cancelled;
};
struct BlobFetchResult {
  // false if a Range was asked (offset > 0, or a retry continuing a cut transfer) and the
  // server did not honour it (it answered 200 with the whole blob, a 206 from elsewhere, or
  // 416). That response is cut before its first byte, but bytes delivered by earlier tries
  // stay delivered: the caller restarts its ingest from 0 and calls FetchBlob with offset 0.
  bool range_honoured = true;
};

class Client {
 public:
  explicit Client(Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Cancellation: GetManifest, HeadManifest, GetSmallBlob and ListTags poll `cancelled` (unset:
  // never) during every transfer they make (the scheme probe, token requests, each page, each
  // mirror) and every wait between tries; once it returns true the call ends, within about
  // a second however slowly the server sends, with Cancelled "cancelled while fetching the
  // manifest of NAME:TAG from registry HOST" (the blob D of NAME, the tag list of NAME;
  // "mirror HOST" for a mirror), followed in parentheses by the step it cut when that was
  // not the transfer itself: "(token server HOST for registry HOST: transfer cancelled)",
  // "(... 503 Service Unavailable (stopped before trying again))".

  // GET /v2/<name>/manifests/<tag or digest> with the Accept header of every supported kind.
  Result<ManifestResponse> GetManifest(const reference::Reference& ref,
                                       std::string_view tag_or_digest,
                                       const std::function<bool()>& cancelled = {});
  // HEAD /v2/<name>/manifests/<tag> with the Accept header of every supported kind (as
  // GetManifest), through the same endpoints, mirrors, credentials, tokens and retries (429
  // with Retry-After waited for as the retry rules say). A registry whose answer to the HEAD
  // has no valid Docker-Content-Digest is asked with a GET instead, and the digest is that of
  // the body (the other fields then come from the GET). Errors as GetManifest's.
  Result<ManifestHead> HeadManifest(const reference::Reference& ref, std::string_view tag,
                                    const std::function<bool()>& cancelled = {});
  // GET a small blob (config) fully into memory, refusing more than max_manifest_bytes.
  Result<std::string> GetSmallBlob(const reference::Reference& ref, const Digest& digest,
                                   const std::function<bool()>& cancelled = {});
  // Streams a blob to `sink`, from fetch.offset on (see BlobFetchResult when the server
  // ignores the Range). A transfer cut by a transient failure is continued from where it
  // stopped, so the sink sees each byte once and in order. Follows up to 5 redirects;
  // Authorization never goes to another host. A sink error ends the fetch and is returned
  // as is, and so is a stop fetch.cancelled asks for ("registry HOST: transfer cancelled").
  Result<BlobFetchResult> FetchBlob(const reference::Reference& ref, const Digest& digest,
                                    const BlobFetch& fetch, const BlobSink& sink);
  // GET /v2/<name>/tags/list, following Link pagination (from the registry, never a mirror).
  Result<std::vector<std::string>> ListTags(const reference::Reference& ref,
                                            const std::function<bool()>& cancelled = {});

  // "https://registry-1.docker.io" or "http://127.0.0.1:5000" for a reference's domain.
  // For a host that allows plain HTTP (insecure in Options::hosts, or loopback) the first
  // call probes https and falls back to http if the port does not speak TLS; the choice is
  // remembered per host (a probe that cannot connect is not). Over https, certificates are
  // verified unless the host is marked insecure, loopback included.
  std::string BaseUrl(std::string_view domain) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One parsed WWW-Authenticate challenge.
struct Challenge {
  std::string scheme;  // lower-case: "bearer", "basic"
  // Keys lower-case: realm, service, scope, error; a token68 credential is kept as "token68".
  std::map<std::string, std::string> params;
};
// Parses a WWW-Authenticate header value that may hold several challenges, quoted values with
// commas and escaped quotes, in any order.
std::vector<Challenge> ParseWwwAuthenticate(std::string_view header);

}  // namespace wharf::registry
