// The CLI's HTTP client for wharfd's API, over libcurl. It is the CLI's own (the daemon's
// registry client is a different thing with different needs): JSON in and out, the session
// cookie on every request, and the API's error shape {"error": {"code", "message"}} turned
// back into a Status.
//
// Thread-safe: every call uses its own connection, so the events stream can run on one thread
// while another sends requests. curl_global_init must have run (Main does it).
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/base/status.h"

namespace wharf::cli {

struct ApiOptions {
  std::string server;  // base URL, "http://127.0.0.1:8080"
  std::string cookie;  // Cookie header value; empty before login
  std::string user_agent = "wharf";
  long connect_timeout_s = 10;
  long timeout_s = 120;  // a whole request (Docker Hub search may take a while); 0 = none
};

// Lets another thread stop a Stream at once (it wakes the transfer's poll).
class StreamCancel {
 public:
  void Cancel();
  bool cancelled() const { return cancelled_.load(); }

 private:
  friend class ApiClient;
  std::mutex mu_;
  void* multi_ = nullptr;  // the CURLM of the running stream, if any
  std::atomic<bool> cancelled_{false};
};

class ApiClient {
 public:
  explicit ApiClient(ApiOptions options) : options_(std::move(options)) {}

  const ApiOptions& options() const { return options_; }

  // Sends a request to `path` (with its query string) with an optional JSON body and returns
  // the parsed JSON of a 2xx answer. An error answer becomes a Status whose code follows the
  // HTTP status (400 InvalidArgument, 401 Unauthenticated, 403 PermissionDenied,
  // 404 NotFound, 409 Conflict, 413 TooLarge, other 4xx/5xx Unavailable) and whose message
  // is the server's; a network failure is Unavailable naming the server.
  Result<nlohmann::json> Call(std::string_view method, const std::string& path,
                              const std::optional<nlohmann::json>& body = std::nullopt) const;
  Result<nlohmann::json> Get(const std::string& path) const { return Call("GET", path); }

  struct LoginReply {
    nlohmann::json body;
    std::string cookie;  // "name=value" of every cookie the server set
  };
  // POST /api/v1/login with the credentials form-encoded, as the API documents show.
  Result<LoginReply> Login(const std::string& username, const std::string& password) const;

  struct StreamHandlers {
    std::function<void()> on_open;                  // the server answered 200
    std::function<void(int64_t)> on_size;           // then: its Content-Length, -1 if none
    std::function<bool(std::string_view)> on_data;  // a chunk of the body; false stops
    std::function<bool()> should_stop;  // asked after each chunk and at least once a second
  };
  // GETs `path` and hands its body to the handlers as it arrives, for a response that does
  // not end by itself (the events stream). Returns OK when the server closed the stream or it
  // was stopped (handler or `cancel`); the error of a non-200 answer, as Call would; or
  // Unavailable on a network failure or when no byte came for `idle_timeout_s`.
  Result<void> Stream(const std::string& path, const std::vector<std::string>& headers,
                      const StreamHandlers& handlers, long idle_timeout_s,
                      StreamCancel* cancel = nullptr) const;
  // GETs `path`, a file of any size (an image archive), and hands its body to the handlers
  // as it arrives; as Stream, but the body must arrive whole: a transfer cut before the
  // Content-Length is Unavailable.
  Result<void> Download(const std::string& path, const StreamHandlers& handlers,
                        long idle_timeout_s) const;

  struct UploadSource {
    // The next bytes of the body into buf (at most n); 0 at its end. An error stops the
    // upload and is what Upload returns.
    std::function<Result<size_t>(char* buf, size_t n)> read;
    int64_t size = -1;                     // the Content-Length; -1: sent chunked
    std::function<void(int64_t)> on_sent;  // bytes sent so far, now and then
    std::function<bool()> should_stop;     // asked now and then; true stops (Cancelled)
  };
  // POSTs the source's bytes to `path` as they are read (a file of any size: an image
  // archive) and returns the JSON of a 2xx answer, or its error, as Call. No overall time
  // limit: Unavailable when no byte moves for `idle_timeout_s` (the server's work after the
  // last byte counts).
  Result<nlohmann::json> Upload(const std::string& path, UploadSource& source,
                                long idle_timeout_s) const;

 private:
  Result<void> Receive(const std::string& path, const std::vector<std::string>& headers,
                       const StreamHandlers& handlers, long idle_timeout_s, StreamCancel* cancel,
                       std::string_view what) const;

  ApiOptions options_;
};

// "host:8080" → "http://host:8080"; trailing slashes go. InvalidArgument for a scheme other
// than http or https, or an empty URL.
Result<std::string> NormalizeServerUrl(std::string_view url);

// Percent-encodes an image name for a path: '/' and ':' stay (a name spans segments), every
// byte outside the unreserved set is escaped.
std::string EscapePath(std::string_view text);
// Percent-encodes a query parameter value.
std::string EscapeQuery(std::string_view text);

// Fields of an answer, tolerant of a missing key or a wrong type: "", [], false and
// nullopt then.
std::string StringField(const nlohmann::json& j, std::string_view key);
const nlohmann::json& ArrayField(const nlohmann::json& j, std::string_view key);
bool BoolField(const nlohmann::json& j, std::string_view key);
std::optional<int64_t> IntField(const nlohmann::json& j, std::string_view key);

// A server message in the words of the command line: the API names its parameters
// ("image_name: invalid reference ..."), the user typed an IMAGE argument or a flag, so those
// prefixes go ("invalid reference ...") or become the flag ("--type: ...").
std::string InUserWords(std::string message);

// The Status an HTTP error answer stands for (see Call), its message InUserWords.
Status StatusFromHttp(long http_status, std::string_view body);

}  // namespace wharf::cli
