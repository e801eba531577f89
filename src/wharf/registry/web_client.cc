#include "wharf/registry/web_client.h"

#include <chrono>

#include "wharf/registry/http_transfer.h"

namespace wharf::registry {

WebClient::WebClient(Options options) : options_(std::move(options)) {}
WebClient::~WebClient() = default;

Result<WebResponse> WebClient::Get(const WebRequest& request) { return Perform(request, nullptr); }

Result<WebResponse> WebClient::Stream(const WebRequest& request, const BlobSink& sink) {
  return Perform(request, &sink);
}

Result<WebResponse> WebClient::Perform(const WebRequest& request, const BlobSink* sink) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::seconds(request.total_timeout_s);
  auto past_deadline = [&] { return request.total_timeout_s > 0 && Clock::now() >= deadline; };
  std::string url = request.url;
  for (int hop = 0; hop <= 5; ++hop) {
    if (!url.starts_with("http://") && !url.starts_with("https://")) {
      return InvalidArgument("not an http(s) URL: " + url);
    }
    std::string host = UrlHostPort(url);
    auto it = options_.hosts.find(host);
    HostOptions settings = it != options_.hosts.end() ? it->second : HostOptions{};
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
        if (head.status >= 300 && head.status < 400 && !head.headers.Get("location").empty()) {
          return BodyAction::kRefuse;
        }
        if (head.status < 200 || head.status >= 300) return BodyAction::kBuffer;
        if (request.offset > 0) {
          bool partial = head.status == 206 &&
                         head.headers.Get("content-range")
                             .starts_with("bytes " + std::to_string(request.offset) + "-");
          if (!partial) {
            range_ok = false;
            return BodyAction::kRefuse;
          }
        }
        return BodyAction::kStream;
      };
    }
    auto response = PerformHttp(http);
    if (!response && response.error().code == Code::kCancelled && past_deadline()) {
      return Unavailable(http.peer + ": no complete answer within " +
                         std::to_string(request.total_timeout_s) + " s");
    }
    if (!response) return Error(response.error());
    std::string location = response->headers.Get("location");
    if (response->status >= 300 && response->status < 400 && !location.empty()) {
      auto next = ResolveUrl(url, location);
      if (!next) return Error(next.error());
      url = *next;
      continue;
    }
    WebResponse out;
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
