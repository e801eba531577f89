#include "wharf/registry/http_getter.h"

#include <chrono>

#include "wharf/registry/retry.h"

namespace wharf::registry {

namespace {

// What to do with the body of an answer to a streamed request from byte `offset`: a
// redirect's is refused, anything but a 2xx buffered (for its message), and for a Range
// request anything but the 206 from `offset` refused, clearing `range_ok` (a 416 included:
// start over; its body is not needed and may be malformed).
BodyAction StreamedBody(const HttpResponse& head, int64_t offset, bool& range_ok) {
  if (head.status >= 300 && head.status < 400 && !head.headers.Get("location").empty()) {
    return BodyAction::kRefuse;
  }
  if (offset > 0 && head.status == 416) {
    range_ok = false;
    return BodyAction::kRefuse;
  }
  if (head.status < 200 || head.status >= 300) return BodyAction::kBuffer;
  const std::string from = "bytes " + std::to_string(offset) + "-";
  if (offset > 0 && !(head.status == 206 && head.headers.Get("content-range").starts_with(from))) {
    range_ok = false;
    return BodyAction::kRefuse;
  }
  return BodyAction::kStream;
}

}  // namespace

HttpGetter::HttpGetter(Options options) : options_(std::move(options)) {}
HttpGetter::~HttpGetter() = default;

Status AnswerError(const HttpGetResponse& response, const std::string& what) {
  std::string message = what + ": " + response.status_text;
  if (response.status == 404 || response.status == 410) return {Code::kNotFound, message};
  return {Code::kUnavailable, message};
}

Result<HttpGetResponse> HttpGetter::Get(const HttpGetRequest& request) {
  return Tried(request, nullptr);
}

Result<HttpGetResponse> HttpGetter::Stream(const HttpGetRequest& request, const BlobSink& sink) {
  return Tried(request, &sink);
}

Result<HttpGetResponse> HttpGetter::Tried(const HttpGetRequest& request, const BlobSink* sink) {
  int64_t streamed = 0;
  BlobSink counting;
  if (sink != nullptr) {
    counting = [&](const char* data, size_t n) -> Result<void> {
      WHARF_RETURN_IF_ERROR((*sink)(data, n));
      streamed += static_cast<int64_t>(n);
      return {};
    };
  }
  HttpGetRequest attempt_request = request;
  auto response = Retry(
      RetryPolicy(options_), request.request_tries, request.cancelled, [&](RetryAdvice& advice) {
        // A body cut half-way goes on from where the sink is.
        attempt_request.offset = request.offset + streamed;
        TransportFailure failure = TransportFailure::kNone;
        auto got = Perform(attempt_request, sink ? &counting : nullptr, &failure);
        if (!got) {
          advice = AdviceForFailure(got.error(), failure);
        } else {
          auto it = got->headers.find("retry-after");
          advice = AdviceForStatus(got->status, it == got->headers.end() ? "" : it->second);
        }
        return got;
      });
  if (response) response->streamed = streamed;
  return response;
}

Result<HttpGetResponse> HttpGetter::Perform(const HttpGetRequest& request, const BlobSink* sink,
                                            TransportFailure* failure) {
  Clock& clock = *options_.clock;
  const auto deadline = clock.SteadyNow() + std::chrono::seconds(request.total_timeout_s);
  auto past_deadline = [&] { return request.total_timeout_s > 0 && clock.SteadyNow() >= deadline; };
  std::string url = request.url;
  for (int hop = 0; hop <= 5; ++hop) {
    if (!url.starts_with("http://") && !url.starts_with("https://")) {
      return InvalidArgument("not an http(s) URL: " + url);
    }
    std::string host = UrlHostPort(url);
    const HostOptions settings = HostSettings(options_, host);
    HttpRequest http;
    http.url = url;
    http.headers = request.headers;
    if (sink != nullptr && request.offset > 0) {
      http.headers.push_back("Range: bytes=" + std::to_string(request.offset) + "-");
    }
    http.peer = "server " + host;
    http.verify_tls = !settings.insecure;
    http.ca_file = settings.ca_file;
    http.decode_content = sink == nullptr;
    http.max_body_bytes = request.max_body_bytes;
    http.connect_timeout_s = options_.connect_timeout_s;
    http.stall_timeout_s = request.stall_timeout_s;
    http.user_agent = options_.user_agent;
    if (request.total_timeout_s > 0 || request.cancelled) {
      http.cancelled = [&] {
        return past_deadline() || (request.cancelled && request.cancelled());
      };
    }
    bool range_ok = true;
    if (sink != nullptr) {
      http.sink = *sink;
      http.body_policy = [&](const HttpResponse& head) {
        return StreamedBody(head, request.offset, range_ok);
      };
    }
    auto response = PerformHttp(http, failure);
    if (!response && response.error().code == Code::kCancelled && past_deadline()) {
      return Unavailable(http.peer + ": no complete answer within " +
                         std::to_string(request.total_timeout_s) + " s");
    }
    if (!response) return Error(response.error());
    std::string location = response->headers.Get("location");
    if (response->status >= 300 && response->status < 400 && !location.empty()) {
      WHARF_ASSIGN_OR_RETURN(auto next, ResolveUrl(url, location));
      url = next;
      continue;
    }
    HttpGetResponse out;
    out.status = response->status;
    out.status_text = response->StatusText();
    out.body = std::move(response->body);
    out.url = url;
    for (const char* name : {"etag", "last-modified", "content-type", "content-length",
                             "retry-after", "content-range"}) {
      std::string value = response->headers.Get(name);
      if (!value.empty()) out.headers[name] = value;
    }
    out.links = response->headers.GetAll("link");
    out.range_honoured = range_ok;
    return out;
  }
  return Unavailable("too many redirects fetching " + request.url);
}

}  // namespace wharf::registry
