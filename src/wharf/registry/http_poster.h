// HttpPoster: POSTs to servers that are not registries (the update checks' webhook). TLS
// settings (insecure, ca_file) come from the registry client's Options::hosts by the URL's
// host[:port], as HttpGetter's do; nothing is authenticated, and redirects are not followed (a
// 3xx is an answer like any other that is not a 2xx). A POST that fails transiently is sent
// again as registry requests are (retry.h: 408, 429 and 5xx gateway statuses, transport
// failures but certificate problems; doubling backoff from Options, Retry-After honoured), so
// a receiver may see it more than once. Waits are on Options::clock. Thread-safe.
#pragma once

#include <functional>
#include <string>

#include "wharf/base/status.h"
#include "wharf/registry/client.h"

namespace wharf::registry {

struct HttpPostRequest {
  std::string url;
  std::string content_type = "application/json";
  std::string body;
  int request_tries = 3;     // tries while the failure is transient; 1 = no retry
  int total_timeout_s = 30;  // every try and wait between them together; 0 = no limit
  int stall_timeout_s = 10;  // no byte for this long fails the try
  // Polled during every transfer and wait; returning true ends the POST with Cancelled.
  // Unset: never.
  std::function<bool()> cancelled;
};

class HttpPoster {
 public:
  explicit HttpPoster(Options options);

  // Success for a 2xx answer (its body is not read). Otherwise the last try's failure:
  // "POST URL: 500 Internal Server Error" (NotFound for 404 and 410, else Unavailable, with
  // the answer's error details), a transport error naming the server, Unavailable "POST URL:
  // no answer within N s" once total_timeout_s passed, InvalidArgument for a URL that is not
  // http(s), Cancelled when `cancelled` said so.
  Result<void> Post(const HttpPostRequest& request);

 private:
  Options options_;
};

}  // namespace wharf::registry
