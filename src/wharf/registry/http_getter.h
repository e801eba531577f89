// HttpGetter: plain HTTP(S) GETs of things that are not registries (remote catalogs, the Docker
// Hub search API, LXC image servers). TLS settings (insecure, ca_file) come from the registry
// client's Options::hosts by the URL's host[:port]; redirects are followed (at most 5 hops, http(s)
// only); nothing is authenticated. Errors: Unavailable for transport failures (naming the host),
// TooLarge for a body over the limit; any HTTP status is a success here — callers judge it. With
// HttpGetRequest::request_tries > 1, transient failures are tried again as registry requests are
// (retry.h: 408, 429 and 5xx gateway statuses, transport failures but certificate problems;
// doubling backoff from Options, Retry-After honoured); a streamed body cut half-way goes on
// with a Range from the bytes the sink took. The last answer or failure is returned.
// Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/registry/client.h"
#include "wharf/registry/http_transfer.h"

namespace wharf::registry {

struct HttpGetRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value", e.g. "If-None-Match: \"abc\""
  size_t max_body_bytes = 8 << 20;   // a 2xx body over this fails with TooLarge
  int stall_timeout_s = 30;          // no byte for this long: Unavailable
  int64_t offset = 0;                // Stream only: ask for bytes from here (Range)
  // The whole exchange (redirects included) must end within this many seconds, else
  // Unavailable "... no complete answer within N s". 0 = no limit beyond the stall timeout.
  int total_timeout_s = 0;
  // Polled before and during every transfer (at each chunk, and about once a second while no
  // byte moves) and during waits between tries; returning true ends the exchange with
  // Cancelled "server HOST: transfer cancelled" (or "... (stopped before trying again)"), for
  // a caller that is shutting down or past its own deadline. Unset: never.
  std::function<bool()> cancelled;
  // Tries of this request while its failure is transient (see above); 1 = no retry.
  int request_tries = 1;
};

struct HttpGetResponse {
  long status = 0;
  std::string status_text;                     // "404 Not Found"
  std::string body;                            // Get only
  std::string url;                             // the final URL after redirects
  std::map<std::string, std::string> headers;  // lower-case names, first value of each
  std::vector<std::string> links;              // every Link header value
  bool range_honoured = true;                  // Stream with offset > 0: false if the server
                                               // ignored Range or answered 416 (no byte was
                                               // delivered then)
  int64_t streamed = 0;                        // Stream: bytes the sink took, all tries
};

class HttpGetter {
 public:
  explicit HttpGetter(Options options);
  ~HttpGetter();

  Result<HttpGetResponse> Get(const HttpGetRequest& request);
  // Streams a 2xx body to `sink` (a non-2xx body is buffered into the response instead).
  Result<HttpGetResponse> Stream(const HttpGetRequest& request, const BlobSink& sink);

  // The options this client was made with (per-host TLS settings and credentials), for the
  // other clients of the module that must reach the same servers the same way.
  const Options& options() const { return options_; }

 private:
  Result<HttpGetResponse> Tried(const HttpGetRequest& request, const BlobSink* sink);
  Result<HttpGetResponse> Perform(const HttpGetRequest& request, const BlobSink* sink,
                                  TransportFailure* failure);
  Options options_;
};

// A non-2xx answer as an error, `what` first ("GET URL: 404 Not Found"): NotFound for 404 and
// 410, Unavailable for every other status.
Status AnswerError(const HttpGetResponse& response, const std::string& what);

// For clients outside the module (both are defined with the registry client's helpers):
// percent-encodes everything but RFC 3986 unreserved characters, for query values;
std::string QueryEscape(std::string_view s);
// and the error details of a response body for messages: a registry's JSON errors as
// "CODE: message; ...", a "details" field, or the start of a plain-text body; "" if there is
// nothing;
std::string DescribeErrorBody(std::string_view body);
// and a caller's stop reworded to name what it cut: "cancelled while fetching <what> from
// <peer>", then "(<the stop's message>)" unless that is just "<peer>: transfer cancelled".
Status CancelledWhile(std::string_view what, std::string_view peer, const Status& stop);

}  // namespace wharf::registry
