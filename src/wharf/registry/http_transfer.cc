#include "wharf/registry/http_transfer.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>

#include "wharf/base/strings.h"

namespace wharf::registry {

namespace {

// libcurl must be initialised once per process before any other call, and not concurrently.
void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Idle easy handles kept for reuse: a reused handle keeps its connection and DNS caches, so
// consecutive requests to one registry skip the TCP and TLS handshakes.
class EasyHandlePool {
 public:
  CURL* Take() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();
        idle_.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }
  void Give(CURL* h) {
    curl_easy_reset(h);
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdle) {
      idle_.push_back(h);
      return;
    }
    curl_easy_cleanup(h);
  }

 private:
  static constexpr size_t kMaxIdle = 8;
  std::mutex mu_;
  std::vector<CURL*> idle_;
};

EasyHandlePool& Pool() {
  // Never destroyed: handles may still be returned while static destructors run.
  static auto* pool = new EasyHandlePool;
  return *pool;
}

class HandleLease {
 public:
  HandleLease() : h_(Pool().Take()) {}
  ~HandleLease() {
    if (h_ != nullptr) Pool().Give(h_);
  }
  HandleLease(const HandleLease&) = delete;
  HandleLease& operator=(const HandleLease&) = delete;
  CURL* get() const { return h_; }

 private:
  CURL* h_;
};

class HeaderList {
 public:
  explicit HeaderList(const std::vector<std::string>& headers) {
    for (const auto& h : headers) list_ = curl_slist_append(list_, h.c_str());
  }
  ~HeaderList() { curl_slist_free_all(list_); }
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  curl_slist* get() const { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

// Reason phrases for HTTP/2, whose status line has none.
std::string_view ReasonFor(long status) {
  static constexpr std::pair<long, std::string_view> kReasons[] = {
      {200, "OK"},
      {206, "Partial Content"},
      {301, "Moved Permanently"},
      {302, "Found"},
      {303, "See Other"},
      {307, "Temporary Redirect"},
      {308, "Permanent Redirect"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {416, "Range Not Satisfiable"},
      {429, "Too Many Requests"},
      {500, "Internal Server Error"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
  };
  for (const auto& [code, reason] : kReasons) {
    if (code == status) return reason;
  }
  return "";
}

constexpr size_t kErrorBodyLimit = 64 << 10;

bool Is2xx(long status) { return status >= 200 && status < 300; }

// Per-transfer state shared with the libcurl callbacks.
struct Transfer {
  const HttpRequest& request;
  HttpResponse response;
  bool head_done = false;
  BodyAction action = BodyAction::kBuffer;
  bool stopped_on_purpose = false;  // refused, or a non-2xx body cut at its limit
  std::optional<Status> error;      // the sink's error or TooLarge

  // Called once the final response's headers are complete (at the first body byte, or after
  // the transfer for an empty body).
  void DecideBody() {
    head_done = true;
    if (request.body_policy) {
      action = request.body_policy(response);
    } else {
      action = request.sink && Is2xx(response.status) ? BodyAction::kStream : BodyAction::kBuffer;
    }
    if (action == BodyAction::kRefuse) response.body_refused = true;
    if (action == BodyAction::kBuffer && Is2xx(response.status) && !request.head) {
      // Refuse an oversized body before reading it when the server says how big it is.
      std::string length = response.headers.Get("content-length");
      if (!length.empty() && std::strtoull(length.c_str(), nullptr, 10) > request.max_body_bytes) {
        error = TooLarge(request.peer + ": response larger than " +
                         std::to_string(request.max_body_bytes) + " bytes")
                    .error();
      }
    }
  }

  // Returns false to abort the transfer.
  bool Body(const char* data, size_t n) {
    if (!head_done) DecideBody();
    if (error) return false;
    switch (action) {
      case BodyAction::kRefuse:
        stopped_on_purpose = true;
        return false;
      case BodyAction::kStream:
        if (auto r = request.sink(data, n); !r) {
          error = std::move(r).error();
          return false;
        }
        return true;
      case BodyAction::kBuffer:
        break;
    }
    bool ok_status = Is2xx(response.status);
    size_t limit =
        ok_status ? request.max_body_bytes : std::min(kErrorBodyLimit, request.max_body_bytes);
    if (response.body.size() + n <= limit) {
      response.body.append(data, n);
      return true;
    }
    if (ok_status) {
      error = TooLarge(request.peer + ": response larger than " +
                       std::to_string(request.max_body_bytes) + " bytes")
                  .error();
      return false;
    }
    // An error page only needs its beginning for the message.
    response.body.append(data, limit - response.body.size());
    stopped_on_purpose = true;
    return false;
  }

  void HeaderLine(std::string_view line) {
    line = Trim(line);
    if (line.starts_with("HTTP/")) {
      // A new response begins (after a 1xx or a proxy's CONNECT answer): start over.
      response.headers.Clear();
      size_t sp = line.find(' ');
      std::string_view rest = sp == std::string_view::npos ? "" : Trim(line.substr(sp + 1));
      response.status = std::strtol(std::string(rest.substr(0, 3)).c_str(), nullptr, 10);
      response.reason = std::string(rest.size() > 3 ? Trim(rest.substr(3)) : "");
      if (response.reason.empty()) response.reason = std::string(ReasonFor(response.status));
      return;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;
    response.headers.Add(Lower(Trim(line.substr(0, colon))),
                         std::string(Trim(line.substr(colon + 1))));
  }
};

size_t OnHeader(char* buffer, size_t size, size_t nitems, void* userdata) {
  static_cast<Transfer*>(userdata)->HeaderLine(std::string_view(buffer, size * nitems));
  return size * nitems;
}

size_t OnBody(char* data, size_t size, size_t nmemb, void* userdata) {
  size_t n = size * nmemb;
  return static_cast<Transfer*>(userdata)->Body(data, n) ? n : 0;
}

int OnProgress(void* userdata, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<Transfer*>(userdata)->request.cancelled() ? 1 : 0;
}

std::string WithoutPrefix(std::string_view s, std::string_view prefix) {
  if (s.starts_with(prefix)) s.remove_prefix(prefix.size());
  return std::string(s);
}

// Describes a failed transfer in words a person acts on, naming the peer.
Status DescribeFailure(const HttpRequest& request, CURL* h, CURLcode rc, const char* errbuf,
                       TransportFailure& failure) {
  std::string detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
  failure = TransportFailure::kOther;
  std::string what;
  switch (rc) {
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
      if (os_errno == ECONNREFUSED) {
        what = "connection refused";
      } else if (os_errno != 0) {
        what = "cannot connect: " + Lower(std::strerror(static_cast<int>(os_errno)));
      } else {
        what = "cannot connect: " + detail;
      }
      break;
    }
    case CURLE_COULDNT_RESOLVE_HOST:
      what = "cannot resolve host name";
      break;
    case CURLE_OPERATION_TIMEDOUT:
      if (detail.find("too slow") != std::string::npos) {
        what = "transfer stalled: no data for " + std::to_string(request.stall_timeout_s) + " s";
      } else {
        what = "timed out: " + detail;
      }
      break;
    case CURLE_SSL_CONNECT_ERROR:
      failure = TransportFailure::kTlsHandshake;
      what = "TLS handshake failed: " + detail;
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
      // The host's own name is in `peer`; say what to do about it, as Docker does.
      failure = TransportFailure::kTlsCertificate;
      what =
          "TLS certificate not trusted: " + WithoutPrefix(detail, "SSL certificate problem: ") +
          (request.ca_file.empty() ? " (configure ca_file for this registry, or mark it insecure)"
                                   : " (not even with ca_file " + request.ca_file + ")");
      break;
    case CURLE_SSL_CACERT_BADFILE:
      failure = TransportFailure::kTlsCertificate;
      what = "cannot use CA file " + request.ca_file + ": " + detail;
      break;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
      what = "connection lost: " + detail;
      break;
    default:
      what = std::string(curl_easy_strerror(rc)) + (errbuf[0] != '\0' ? ": " + detail : "");
  }
  return Status{Code::kUnavailable, request.peer + ": " + what};
}

void Configure(CURL* h, const HttpRequest& request, const HeaderList& headers, Transfer& transfer,
               char* errbuf) {
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  // HEAD: libcurl then stops after the headers instead of waiting for Content-Length bytes.
  if (request.head) curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (request.post_body) {  // libcurl reads the body from the request, which outlives it
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.post_body->data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.post_body->size()));
  }
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(h, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  // Redirects are followed by the client, which decides per hop whether credentials go along.
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, static_cast<long>(request.connect_timeout_s));
  // A transfer slower than 1 byte/s for stall_timeout_s is stalled.
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(request.stall_timeout_s));
  curl_easy_setopt(h, CURLOPT_USERAGENT, request.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  // Streamed bodies (blobs) arrive in chunks of up to this size rather than 16 KiB: fewer
  // callbacks and recv calls per layer.
  if (request.sink) curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L << 10);
  if (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_HTTP2) {
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  } else {
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  }
  // "" offers every encoding libcurl can decode; unset sends no Accept-Encoding at all.
  if (request.decode_content) curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  if (!request.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, request.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, request.verify_tls ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, request.verify_tls ? 2L : 0L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  if (request.cancelled) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &transfer);
  }
}

// A curl URL handle, freed on scope exit.
class UrlHandle {
 public:
  UrlHandle() : u_(curl_url()) {}
  ~UrlHandle() { curl_url_cleanup(u_); }
  UrlHandle(const UrlHandle&) = delete;
  UrlHandle& operator=(const UrlHandle&) = delete;

  bool Set(std::string_view url) {
    return curl_url_set(u_, CURLUPART_URL, std::string(url).c_str(), 0) == CURLUE_OK;
  }
  // The part, or nullopt if absent.
  std::optional<std::string> Get(CURLUPart part, unsigned flags = 0) const {
    char* out = nullptr;
    if (curl_url_get(u_, part, &out, flags) != CURLUE_OK || out == nullptr) return std::nullopt;
    std::string s(out);
    curl_free(out);
    return s;
  }

 private:
  CURLU* u_;
};

}  // namespace

void HttpHeaders::Add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

std::string HttpHeaders::Get(std::string_view name) const {
  for (const auto& [k, v] : fields_) {
    if (k == name) return v;
  }
  return "";
}

std::vector<std::string> HttpHeaders::GetAll(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : fields_) {
    if (k == name) out.push_back(v);
  }
  return out;
}

std::string HttpResponse::StatusText() const {
  return reason.empty() ? std::to_string(status) : std::to_string(status) + " " + reason;
}

Result<HttpResponse> PerformHttp(const HttpRequest& request, TransportFailure* failure) {
  InitCurlOnce();
  if (failure != nullptr) *failure = TransportFailure::kNone;
  // A caller that already gave up should not open a connection first.
  if (request.cancelled && request.cancelled()) {
    return Cancelled(request.peer + ": transfer cancelled");
  }
  HandleLease handle;
  if (handle.get() == nullptr) return Internal("curl_easy_init failed");
  HeaderList headers(request.headers);
  Transfer transfer{request};
  transfer.response.url = request.url;
  if (request.head) transfer.response.method = "HEAD";
  if (request.post_body) transfer.response.method = "POST";
  char errbuf[CURL_ERROR_SIZE] = {};
  Configure(handle.get(), request, headers, transfer, errbuf);

  CURLcode rc = curl_easy_perform(handle.get());
  if (transfer.error) return Error(std::move(*transfer.error));
  if (rc == CURLE_WRITE_ERROR && transfer.stopped_on_purpose) rc = CURLE_OK;
  if (rc == CURLE_ABORTED_BY_CALLBACK) return Cancelled(request.peer + ": transfer cancelled");
  if (rc != CURLE_OK) {
    TransportFailure kind;
    Status status = DescribeFailure(request, handle.get(), rc, errbuf, kind);
    if (failure != nullptr) *failure = kind;
    return Error(std::move(status));
  }
  if (!transfer.head_done) {  // an empty body: the policy still decides (e.g. kRefuse)
    transfer.DecideBody();
    if (transfer.error) return Error(std::move(*transfer.error));
  }
  return std::move(transfer.response);
}

Result<std::string> ResolveUrl(std::string_view base, std::string_view ref) {
  InitCurlOnce();
  UrlHandle u;
  // Setting a URL on a handle that already holds one resolves it relative to the old one.
  if (!u.Set(base)) return InvalidArgument("invalid URL: " + std::string(base));
  if (!u.Set(ref))
    return InvalidArgument("invalid URL " + std::string(ref) + " relative to " + std::string(base));
  auto url = u.Get(CURLUPART_URL);
  if (!url) return InvalidArgument("invalid URL: " + std::string(ref));
  return *url;
}

std::string UrlHostPort(std::string_view url) {
  InitCurlOnce();
  UrlHandle u;
  if (!u.Set(url)) return "";
  auto host = u.Get(CURLUPART_HOST);
  if (!host) return "";
  auto port = u.Get(CURLUPART_PORT);
  return port ? *host + ":" + *port : *host;
}

std::string UrlOrigin(std::string_view url) {
  InitCurlOnce();
  UrlHandle u;
  if (!u.Set(url)) return "";
  auto scheme = u.Get(CURLUPART_SCHEME);
  auto host = u.Get(CURLUPART_HOST);
  auto port = u.Get(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!scheme || !host || !port) return "";
  return Lower(*scheme) + "://" + Lower(*host) + ":" + *port;
}

std::string QueryEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace wharf::registry
