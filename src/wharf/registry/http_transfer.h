// One HTTP exchange over libcurl, and the URL helpers the registry client needs. Internal to
// the registry module: nothing here follows redirects, authenticates or retries; the client
// layers those on top so that a retry loop can wrap a single PerformHttp call.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/registry/client.h"

namespace wharf::registry {

// Response headers in arrival order; names are lower-cased, values trimmed.
class HttpHeaders {
 public:
  void Add(std::string name, std::string value);
  void Clear() { fields_.clear(); }
  // The first value of `name` (lower-case), or "" if absent.
  std::string Get(std::string_view name) const;
  // Every value of `name`, for headers that may repeat (WWW-Authenticate, Link).
  std::vector<std::string> GetAll(std::string_view name) const;

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

struct HttpResponse {
  long status = 0;
  std::string reason;  // reason phrase ("Not Found"); filled from a table for HTTP/2
  HttpHeaders headers;
  std::string body;            // the buffered body; empty when streamed to the sink
  bool body_refused = false;   // the body policy said kRefuse: no byte was read or delivered
  std::string url;             // the URL that was requested
  std::string method = "GET";  // "HEAD" or "POST" for such a HttpRequest, naming the exchange

  // "404 Not Found"
  std::string StatusText() const;
};

// What to do with a response body, decided once the status line and headers are in.
enum class BodyAction {
  kBuffer,  // keep it in HttpResponse::body (capped; see HttpRequest::max_body_bytes)
  kStream,  // hand it to HttpRequest::sink
  kRefuse,  // end the transfer before the first byte; PerformHttp still succeeds
};

struct HttpRequest {
  std::string url;
  // HEAD instead of GET: the status and headers only. The transfer ends with the headers,
  // whatever Content-Length they announce; no body reaches the sink or HttpResponse::body,
  // and max_body_bytes does not apply.
  bool head = false;
  // POST this body instead of a GET (with `head` false); its Content-Type goes in `headers`.
  // The request is not sent again by libcurl. Unset: a GET, or a HEAD.
  std::optional<std::string> post_body;
  std::vector<std::string> headers;  // "Name: value"
  // Names the other end in error messages: "registry 127.0.0.1:5000".
  std::string peer;
  // TLS: verify the peer unless insecure; an extra CA bundle if non-empty.
  bool verify_tls = true;
  std::string ca_file;
  // Ask for (and transparently decode) compressed bodies. Off for blobs, whose bytes must
  // hash to their digest exactly as stored.
  bool decode_content = false;
  // A 2xx body over this size fails with TooLarge; a non-2xx body is cut at 64 KiB.
  size_t max_body_bytes = 64 << 10;
  // Where kStream bodies go.
  BlobSink sink;
  // Chooses the body action. Unset: kStream for a 2xx when a sink is set, else kBuffer.
  std::function<BodyAction(const HttpResponse& head)> body_policy;

  int connect_timeout_s = 15;
  int stall_timeout_s = 30;
  std::string user_agent;
  // Polled before the transfer starts and while it runs (at every chunk that arrives, and
  // about once a second even when no byte moves); returning true ends it with Cancelled
  // "PEER: transfer cancelled". Lets a caller enforce a deadline or stop promptly, however
  // slowly a server sends. Unset: never.
  std::function<bool()> cancelled;
};

// Why a transfer failed before an HTTP response arrived, for callers that react to the kind.
enum class TransportFailure {
  kNone,
  kTlsHandshake,    // the TLS handshake failed, e.g. the server speaks plain HTTP on the port:
                    // the case in which insecure hosts fall back to http
  kTlsCertificate,  // the peer's certificate is not trusted, or the CA file is unusable: no
                    // retry can help
  kOther,
};

// Performs one request (GET, HEAD or POST) without following redirects. Any HTTP status is a
// success here; errors are transport failures (Unavailable, naming `peer`: "registry
// 127.0.0.1:5000: connection refused"; `failure`, if given, says which kind), TooLarge for a
// 2xx body over the limit, the sink's own error, or Cancelled when HttpRequest::cancelled said
// so.
Result<HttpResponse> PerformHttp(const HttpRequest& request, TransportFailure* failure = nullptr);

// Resolves `ref` (absolute, or relative as in a Location or Link header) against `base`.
Result<std::string> ResolveUrl(std::string_view base, std::string_view ref);
// "127.0.0.1:5000" for a URL (port only when explicit), the key of Options::hosts; and its
// origin for same-origin checks, "http://127.0.0.1:5000" (host lower-cased, port always).
// Empty strings if the URL does not parse.
std::string UrlHostPort(std::string_view url);
std::string UrlOrigin(std::string_view url);
// Percent-encodes everything but RFC 3986 unreserved characters, for query values.
std::string QueryEscape(std::string_view s);

}  // namespace wharf::registry
