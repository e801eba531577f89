#include "wharf/registry/http_poster.h"

#include <chrono>

#include "wharf/registry/http_getter.h"
#include "wharf/registry/retry.h"

namespace wharf::registry {

namespace {

bool Is2xx(long status) { return status >= 200 && status < 300; }

// The exchange of one try, with the host's TLS settings.
HttpRequest PostOf(const HttpPostRequest& request, const Options& options) {
  const std::string host = UrlHostPort(request.url);
  const HostOptions settings = HostSettings(options, host);
  HttpRequest http;
  http.url = request.url;
  http.post_body = request.body;
  // "Expect:" keeps libcurl from waiting for a 100 Continue that simple servers never send.
  http.headers = {"Content-Type: " + request.content_type, "Expect:"};
  http.peer = "server " + host;
  http.verify_tls = !settings.insecure;
  http.ca_file = settings.ca_file;
  http.connect_timeout_s = options.connect_timeout_s;
  http.stall_timeout_s = request.stall_timeout_s;
  http.user_agent = options.user_agent;
  // A success's body is not needed; another answer's beginning names the problem.
  http.body_policy = [](const HttpResponse& head) {
    return Is2xx(head.status) ? BodyAction::kRefuse : BodyAction::kBuffer;
  };
  return http;
}

}  // namespace

HttpPoster::HttpPoster(Options options) : options_(std::move(options)) {}

Result<void> HttpPoster::Post(const HttpPostRequest& request) {
  if (!request.url.starts_with("http://") && !request.url.starts_with("https://")) {
    return InvalidArgument("not an http(s) URL: " + request.url);
  }
  Clock& clock = *options_.clock;
  const auto deadline = clock.SteadyNow() + std::chrono::seconds(request.total_timeout_s);
  auto late = [&] { return request.total_timeout_s > 0 && clock.SteadyNow() >= deadline; };
  std::function<bool()> stop = [&] { return late() || (request.cancelled && request.cancelled()); };
  HttpRequest http = PostOf(request, options_);
  http.cancelled = stop;
  auto answer = Retry(RetryPolicy(options_), request.request_tries, stop, [&](RetryAdvice& advice) {
    TransportFailure failure = TransportFailure::kNone;
    auto got = PerformHttp(http, &failure);
    if (!got) {
      advice = AdviceForFailure(got.error(), failure);
    } else if (!Is2xx(got->status)) {
      advice = AdviceForResponse(*got);
    }
    return got;
  });
  const std::string what = "POST " + request.url;
  if (!answer && answer.error().code == Code::kCancelled && late()) {
    return Unavailable(what + ": no answer within " + std::to_string(request.total_timeout_s) +
                       " s");
  }
  if (!answer) return Error(answer.error());
  if (Is2xx(answer->status)) return {};
  std::string details = DescribeErrorBody(answer->body);
  Code code = answer->status == 404 || answer->status == 410 ? Code::kNotFound : Code::kUnavailable;
  return Fail(code, what + ": " + answer->StatusText() + (details.empty() ? "" : ": " + details));
}

}  // namespace wharf::registry
