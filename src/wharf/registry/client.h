// A client of the OCI distribution API (Docker Registry HTTP API v2) over libcurl.
//
// It maps a reference's domain to an endpoint ("docker.io" → Options::dockerhub_registry),
// negotiates the scheme (https; plain http only for hosts marked insecure or on loopback, as
// Docker allows), authenticates (anonymous, Basic from per-host credentials, Bearer tokens
// obtained from the WWW-Authenticate challenge and cached per host and scope), and streams
// blobs with optional Range resume.
//
// Errors: NotFound for a 404 / MANIFEST_UNKNOWN / NAME_UNKNOWN / BLOB_UNKNOWN; Unauthenticated
// for a 401 after authentication was tried; PermissionDenied for a 403; Unavailable for other
// HTTP failures, connection and TLS errors (the message names the host and carries the
// registry's error code/message); TooLarge for a manifest over the size limit; DataLoss for
// bytes that do not match the digest asked for. Each call is one attempt (no retries).
// Thread-safe: calls may run concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/base/digest.h"
#include "wharf/base/status.h"
#include "wharf/reference/reference.h"

namespace wharf::registry {

struct HostOptions {
  bool insecure = false;  // allow plain HTTP (and skip TLS verification over https)
  std::string ca_file;    // extra CA bundle for this host
  std::string username;   // Basic credentials (also used to obtain Bearer tokens)
  std::string password;
};

struct Options {
  // Where docker.io images are pulled from (scheme included).
  std::string dockerhub_registry = "https://registry-1.docker.io";
  // Per "host[:port]" settings.
  std::map<std::string, HostOptions> hosts;
  // Give up connecting after this long.
  int connect_timeout_s = 15;
  // A transfer that delivers no bytes for this long is aborted.
  int stall_timeout_s = 30;
  // Manifests and configs larger than this are refused.
  size_t max_manifest_bytes = 4 << 20;
  std::string user_agent = "wharf/0.1";
};

struct ManifestResponse {
  std::string body;
  std::string media_type;  // from Content-Type
  Digest digest;           // sha256 of body (always computed locally)
};

// Receives a blob's bytes in order. Returning an error aborts the transfer with that error.
using BlobSink = std::function<Result<void>(const char* data, size_t n)>;

struct BlobFetch {
  int64_t offset = 0;  // ask for bytes from here (Range); 0 = whole blob
};
struct BlobFetchResult {
  // false if offset > 0 but the server did not honour the Range (it answered 200 with the
  // whole blob, a 206 from elsewhere, or 416). The transfer is then cut before the first byte
  // and the sink has received NOTHING: the caller restarts its ingest from 0 and calls
  // FetchBlob again with offset 0.
  bool range_honoured = true;
};

class Client {
 public:
  explicit Client(Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // GET /v2/<name>/manifests/<tag or digest> with the Accept header of every supported kind.
  Result<ManifestResponse> GetManifest(const reference::Reference& ref,
                                       std::string_view tag_or_digest);
  // GET a small blob (config) fully into memory, refusing more than max_manifest_bytes.
  Result<std::string> GetSmallBlob(const reference::Reference& ref, const Digest& digest);
  // Streams a blob to `sink`, from fetch.offset on (see BlobFetchResult when the server
  // ignores the Range). Follows up to 5 redirects; Authorization never goes to another host.
  // A sink error ends the transfer and is returned as is.
  Result<BlobFetchResult> FetchBlob(const reference::Reference& ref, const Digest& digest,
                                    const BlobFetch& fetch, const BlobSink& sink);
  // GET /v2/<name>/tags/list, following Link pagination.
  Result<std::vector<std::string>> ListTags(const reference::Reference& ref);

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
