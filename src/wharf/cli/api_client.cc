#include "wharf/cli/api_client.h"

#include <curl/curl.h>

#include <cctype>
#include <memory>
#include <utility>

#include "wharf/base/strings.h"

namespace wharf::cli {

namespace {

constexpr size_t kMaxBody = 64 << 20;       // a listing or inspect answer is far smaller
constexpr size_t kMaxErrorBody = 64 << 10;  // what is kept of a failed stream's answer

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct ListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;
using HeaderList = std::unique_ptr<curl_slist, ListDeleter>;

struct Transfer {
  std::string body;
  std::vector<std::string> cookies;
  bool too_large = false;
};

size_t CollectBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (t->body.size() + size * n > kMaxBody) {
    t->too_large = true;
    return 0;
  }
  t->body.append(data, size * n);
  return size * n;
}

// Keeps the "name=value" part of every Set-Cookie header.
size_t CollectCookies(char* data, size_t size, size_t n, void* user) {
  std::string_view line(data, size * n);
  constexpr std::string_view kName = "set-cookie:";
  if (line.size() > kName.size() && EqualsIgnoreCase(line.substr(0, kName.size()), kName)) {
    std::string_view value = line.substr(kName.size());
    value = Trim(value.substr(0, value.find_first_of(";\r\n")));
    if (!value.empty()) static_cast<Transfer*>(user)->cookies.emplace_back(value);
  }
  return size * n;
}

std::string TransportError(const ApiOptions& o, CURLcode code, const char* detail) {
  std::string why = detail != nullptr && *detail != '\0' ? detail : curl_easy_strerror(code);
  return "cannot reach wharfd at " + o.server + ": " + why;
}

// An easy handle with what every request shares.
Result<Easy> NewEasy(const ApiOptions& o, const std::string& path, HeaderList& headers,
                     char* error_buffer) {
  Easy easy(curl_easy_init());
  if (!easy) return Internal("curl_easy_init failed");
  CURL* c = easy.get();
  std::string url = o.server + path;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, o.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o.connect_timeout_s);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  if (!o.cookie.empty()) {
    headers.reset(curl_slist_append(headers.release(), ("Cookie: " + o.cookie).c_str()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  return easy;
}

// The JSON of a finished request's 2xx answer, or its error, as Call describes.
Result<nlohmann::json> AnswerOf(const ApiOptions& o, CURL* c, CURLcode rc, const Transfer& t,
                                const std::string& path, const char* error_buffer);

}  // namespace

std::string InUserWords(std::string message) {
  // Longest first: "image_name: " must not be taken for another prefix.
  static constexpr std::pair<std::string_view, std::string_view> kWords[] = {
      {"image_name: ", ""},
      {"image_tag: ", ""},
      {"filter_text: ", ""},
      {"image_type: ", "--type: "},
      {"depot: ", "--from: "}};
  for (auto [api, user] : kWords) {
    if (message.starts_with(api)) return std::string(user) + message.substr(api.size());
  }
  return message;
}

Status StatusFromHttp(long http_status, std::string_view body) {
  std::string message;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object() &&
      j["error"].value("message", nlohmann::json()).is_string()) {
    message = InUserWords(j["error"]["message"].get<std::string>());
  } else {
    std::string_view start = body.substr(0, 200);
    message = "HTTP " + std::to_string(http_status) + " from wharfd" +
              (start.empty() ? std::string() : ": " + std::string(start));
  }
  Code code = Code::kUnavailable;
  switch (http_status) {
    case 400:
      code = Code::kInvalidArgument;
      break;
    case 401:
      code = Code::kUnauthenticated;
      break;
    case 403:
      code = Code::kPermissionDenied;
      break;
    case 404:
      code = Code::kNotFound;
      break;
    case 409:
      code = Code::kConflict;
      break;
    case 413:
      code = Code::kTooLarge;
      break;
    default:
      break;
  }
  return Status{code, std::move(message)};
}

void StreamCancel::Cancel() {
  cancelled_ = true;
  std::lock_guard lock(mu_);
  if (multi_ != nullptr) curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

Result<nlohmann::json> ApiClient::Call(std::string_view method, const std::string& path,
                                       const std::optional<nlohmann::json>& body) const {
  HeaderList headers(curl_slist_append(nullptr, "Accept: application/json"));
  char error_buffer[CURL_ERROR_SIZE] = {};
  WHARF_ASSIGN_OR_RETURN(auto easy, NewEasy(options_, path, headers, error_buffer));
  CURL* c = easy.get();
  std::string payload;
  if (body) {
    payload = body->dump();
    headers.reset(curl_slist_append(headers.release(), "Content-Type: application/json"));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
  }
  std::string verb(method);
  if (verb == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (verb == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    if (!body) curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, verb.c_str());
  }
  curl_easy_setopt(c, CURLOPT_TIMEOUT, options_.timeout_s);
  Transfer t;
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  return AnswerOf(options_, c, curl_easy_perform(c), t, path, error_buffer);
}

namespace {

Result<nlohmann::json> AnswerOf(const ApiOptions& o, CURL* c, CURLcode rc, const Transfer& t,
                                const std::string& path, const char* error_buffer) {
  if (t.too_large) return TooLarge("wharfd's answer to " + path + " is too large");
  if (rc != CURLE_OK) return Unavailable(TransportError(o, rc, error_buffer));
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) return Error(StatusFromHttp(status, t.body));
  if (t.body.empty()) return nlohmann::json::object();
  auto j = nlohmann::json::parse(t.body, nullptr, false);
  if (j.is_discarded()) return Unavailable("wharfd answered " + path + " with invalid JSON");
  return j;
}

struct UploadState {
  ApiClient::UploadSource* source;
  std::optional<Status> read_error;
  bool stopped = false;
};

size_t ReadUpload(char* buffer, size_t size, size_t n, void* user) {
  auto* s = static_cast<UploadState*>(user);
  auto got = s->source->read(buffer, size * n);
  if (!got) {
    s->read_error = got.error();
    return CURL_READFUNC_ABORT;
  }
  return *got;
}

int UploadProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t sent) {
  auto* s = static_cast<UploadState*>(user);
  if (s->source->on_sent) s->source->on_sent(static_cast<int64_t>(sent));
  if (s->source->should_stop && s->source->should_stop()) {
    s->stopped = true;
    return 1;
  }
  return 0;
}

}  // namespace

Result<nlohmann::json> ApiClient::Upload(const std::string& path, UploadSource& source,
                                         long idle_timeout_s) const {
  HeaderList headers(curl_slist_append(nullptr, "Accept: application/json"));
  headers.reset(curl_slist_append(headers.release(), "Content-Type: application/x-tar"));
  if (source.size < 0) {
    headers.reset(curl_slist_append(headers.release(), "Transfer-Encoding: chunked"));
  }
  char error_buffer[CURL_ERROR_SIZE] = {};
  WHARF_ASSIGN_OR_RETURN(auto easy, NewEasy(options_, path, headers, error_buffer));
  CURL* c = easy.get();
  UploadState state{&source};
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  if (source.size >= 0) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(source.size));
  }
  curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadUpload);
  curl_easy_setopt(c, CURLOPT_READDATA, &state);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, UploadProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &state);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, idle_timeout_s);
  Transfer t;
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  CURLcode rc = curl_easy_perform(c);
  if (state.read_error) return Error(*state.read_error);
  if (state.stopped) return Cancelled("the upload was stopped");
  return AnswerOf(options_, c, rc, t, path, error_buffer);
}

Result<ApiClient::LoginReply> ApiClient::Login(const std::string& username,
                                               const std::string& password) const {
  HeaderList headers(curl_slist_append(nullptr, "Accept: application/json"));
  char error_buffer[CURL_ERROR_SIZE] = {};
  WHARF_ASSIGN_OR_RETURN(auto easy, NewEasy(options_, "/api/v1/login", headers, error_buffer));
  CURL* c = easy.get();
  std::string form = "username=" + EscapeQuery(username) + "&password=" + EscapeQuery(password);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, form.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(form.size()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT, options_.timeout_s);
  Transfer t;
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, CollectCookies);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) return Unavailable(TransportError(options_, rc, error_buffer));
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) return Error(StatusFromHttp(status, t.body));
  LoginReply reply;
  reply.body = nlohmann::json::parse(t.body, nullptr, false);
  if (reply.body.is_discarded()) return Unavailable("wharfd answered the login with invalid JSON");
  for (const auto& cookie : t.cookies) {
    if (!reply.cookie.empty()) reply.cookie += "; ";
    reply.cookie += cookie;
  }
  if (reply.cookie.empty()) return Unavailable("wharfd accepted the login but set no cookie");
  return reply;
}

namespace {

struct StreamState {
  CURL* easy = nullptr;
  const ApiClient::StreamHandlers* handlers = nullptr;
  long status = 0;
  bool opened = false;
  bool stopped = false;  // a handler asked to stop
  std::string error_body;

  bool StopAsked() const { return handlers->should_stop && handlers->should_stop(); }
};

size_t StreamHeader(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<StreamState*>(user);
  std::string_view line(data, size * n);
  if (line == "\r\n" || line == "\n") {  // end of a header block
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status == 200 && !s->opened) {
      s->opened = true;
      if (s->handlers->on_open) s->handlers->on_open();
      curl_off_t length = -1;
      curl_easy_getinfo(s->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
      if (s->handlers->on_size) s->handlers->on_size(static_cast<int64_t>(length));
    }
  }
  return size * n;
}

size_t StreamBody(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<StreamState*>(user);
  std::string_view chunk(data, size * n);
  if (s->status != 200) {
    if (s->error_body.size() < kMaxErrorBody) s->error_body.append(chunk);
    return chunk.size();
  }
  if ((s->handlers->on_data && !s->handlers->on_data(chunk)) || s->StopAsked()) {
    s->stopped = true;
    return 0;
  }
  return chunk.size();
}

}  // namespace

Result<void> ApiClient::Stream(const std::string& path, const std::vector<std::string>& headers,
                               const StreamHandlers& handlers, long idle_timeout_s,
                               StreamCancel* cancel) const {
  std::vector<std::string> all = {"Accept: text/event-stream"};
  all.insert(all.end(), headers.begin(), headers.end());
  return Receive(path, all, handlers, idle_timeout_s, cancel, "the events stream");
}

Result<void> ApiClient::Download(const std::string& path, const StreamHandlers& handlers,
                                 long idle_timeout_s) const {
  return Receive(path, {"Accept: application/x-tar, application/json"}, handlers, idle_timeout_s,
                 nullptr, "the download");
}

Result<void> ApiClient::Receive(const std::string& path, const std::vector<std::string>& headers,
                                const StreamHandlers& handlers, long idle_timeout_s,
                                StreamCancel* cancel, std::string_view what) const {
  HeaderList list;
  for (const auto& h : headers) list.reset(curl_slist_append(list.release(), h.c_str()));
  char error_buffer[CURL_ERROR_SIZE] = {};
  WHARF_ASSIGN_OR_RETURN(auto easy, NewEasy(options_, path, list, error_buffer));
  CURL* c = easy.get();
  StreamState state{c, &handlers};
  curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, StreamHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &state);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, StreamBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &state);
  // libcurl's default receive buffer is 16 KiB: a socket read and a write callback (and so a
  // write(2) of the archive) per 16 KiB. 1 MiB (libcurl allows up to 10 MiB) takes whatever
  // the socket holds in one read; an events stream's small messages come through as before.
  curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 1L << 20);
  // The server sends at least a keep-alive comment every 15 s; silence means a dead peer.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, idle_timeout_s);

  CURLM* multi = curl_multi_init();
  if (multi == nullptr) return Internal("curl_multi_init failed");
  curl_multi_add_handle(multi, c);
  if (cancel != nullptr) {
    std::lock_guard lock(cancel->mu_);
    cancel->multi_ = multi;
  }
  CURLcode result = CURLE_OK;
  bool cancelled = false;
  for (int running = 1; running != 0;) {
    if (curl_multi_perform(multi, &running) != CURLM_OK) {
      result = CURLE_RECV_ERROR;
      break;
    }
    if ((cancel != nullptr && cancel->cancelled()) || state.StopAsked()) {
      cancelled = true;
      break;
    }
    if (running != 0) curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
    if (msg->msg == CURLMSG_DONE) result = msg->data.result;
  }
  if (cancel != nullptr) {
    std::lock_guard lock(cancel->mu_);
    cancel->multi_ = nullptr;
  }
  curl_multi_remove_handle(multi, c);
  curl_multi_cleanup(multi);

  if (cancelled || state.stopped) return {};
  if (state.status != 0 && state.status != 200) {
    return Error(StatusFromHttp(state.status, state.error_body));
  }
  if (result == CURLE_OPERATION_TIMEDOUT && state.opened) {
    return Unavailable(std::string(what) + " from " + options_.server + " went silent for " +
                       std::to_string(idle_timeout_s) + "s");
  }
  if (result != CURLE_OK) return Unavailable(TransportError(options_, result, error_buffer));
  return {};
}

Result<std::string> NormalizeServerUrl(std::string_view url) {
  std::string out(url);
  while (!out.empty() && out.back() == '/') out.pop_back();
  if (out.empty()) return InvalidArgument("the server URL is empty");
  size_t scheme_end = out.find("://");
  if (scheme_end == std::string::npos) {
    out = "http://" + out;
  } else {
    std::string scheme = out.substr(0, scheme_end);
    if (scheme != "http" && scheme != "https") {
      return InvalidArgument("the server URL must start with http:// or https://: \"" +
                             std::string(url) + "\"");
    }
    if (scheme_end + 3 == out.size()) return InvalidArgument("the server URL has no host");
  }
  return out;
}

namespace {

std::string Escape(std::string_view text, std::string_view keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
        keep.find(ch) != std::string_view::npos) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string StringField(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const nlohmann::json& ArrayField(const nlohmann::json& j, std::string_view key) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  if (!j.is_object()) return kEmpty;
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : kEmpty;
}

bool BoolField(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return false;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

std::optional<int64_t> IntField(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

std::string EscapePath(std::string_view text) { return Escape(text, "/:"); }
std::string EscapeQuery(std::string_view text) { return Escape(text, ""); }

}  // namespace wharf::cli
