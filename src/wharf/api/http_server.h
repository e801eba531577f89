// The HTTP/1.1 server under the API: Boost.Beast over Asio, every connection a coroutine on a
// few I/O threads, so a slow, idle or long-lived client holds memory and a socket but no
// thread. Handlers may block: they run on two bounded worker pools (fast: answers from memory,
// the disk and SQLite; slow: calls that wait on another server or on a password hash), and
// their result resumes the connection. What a client may take is bounded:
// - connections in total and per client address: over a limit, a 503 with Retry-After is
//   written at once, without reading the request, and the connection is closed;
// - deadlines, not idle timeouts: the headers of a request must be complete within
//   `header_timeout_s` (counted from the connection or from the end of the previous answer,
//   after an idle keep-alive wait of at most `idle_timeout_s`), its body within
//   `body_timeout_s` plus the bytes received so far at `min_rate_bytes_s`, and an answer must be
//   taken within `write_timeout_s` plus its size at that rate (a file or parts answer: each
//   piece within `write_timeout_s` too); a stream only needs each piece to leave within
//   `write_timeout_s`. A client past a deadline is disconnected;
// - a body over `max_body_bytes` (declared, or chunked and counted as decoded) is answered
//   413 and the connection closed; headers over `max_header_bytes` or `max_header_fields`, 431.
//   A body taken by an HttpBodySink has the sink's Limit() instead, and is read in pieces of
//   at most 1 MiB, each taken before more is read: it holds that much memory, whatever its
//   size (and the time the sink takes does not count against the client's body deadline).
// Pipelined requests are answered in order. The headers are checked (HttpHandler::Admit)
// before the body is read and before `100 Continue` is sent; a declared Content-Length over
// the limit is answered 413 then, before `100 Continue` and without reading the body.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "wharf/api/http_message.h"
#include "wharf/base/status.h"

namespace wharf::api {

struct HttpServerOptions {
  size_t io_threads = 0;          // 0 = the number of cores
  size_t fast_workers = 0;        // 0 = the number of cores (at least 2)
  size_t slow_workers = 64;       // upstream calls and password hashes at once
  size_t max_connections = 4096;  // open at once
  size_t max_connections_per_client = 64;
  int header_timeout_s = 10;
  int body_timeout_s = 10;
  int idle_timeout_s = 30;
  int write_timeout_s = 30;
  size_t min_rate_bytes_s = 4096;
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 << 10;
  size_t max_header_fields = 100;
  size_t max_requests_per_connection = 100;  // then the answer says Connection: close
  std::string tls_cert;                      // PEM files; both set = HTTPS
  std::string tls_key;
};

// What the server asks of the application. Called from worker threads, concurrently.
class HttpHandler {
 public:
  enum class Lane { kFast, kSlow };
  virtual ~HttpHandler() = default;
  // Which pool runs Admit() and Handle() of this request (headers only; must not block).
  virtual Lane LaneOf(const HttpRequest& head) = 0;
  // After the headers, before the body (request.body is empty): an answer to send instead of
  // reading the body and handling the request (401, 403, 404...), or nullopt to go on. May
  // keep what it learned in request.context, and set request.body_sink to take the body piece
  // by piece (http_message.h) instead of into request.body.
  virtual std::optional<HttpResponse> Admit(HttpRequest& request) = 0;
  // The answer to a request whose body has been read, or all taken by its sink.
  virtual HttpResponse Handle(HttpRequest& request) = 0;
  // The answer for a refused connection or request: status 503, 408, 413, 431 or 400 and a
  // message (the handler gives it its JSON shape).
  virtual HttpResponse Refusal(int status, const std::string& message) = 0;
};

class HttpServer {
 public:
  // InvalidArgument if the TLS certificate or key cannot be loaded.
  static Result<std::unique_ptr<HttpServer>> Create(HttpServerOptions options,
                                                    HttpHandler& handler);
  ~HttpServer();

  // Binds host:port (port 0 = any free port); returns the bound port.
  Result<int> Bind(const std::string& host, int port);
  // Serves on the I/O threads (the calling one among them) until Stop().
  Result<void> Serve();
  // Stops Serve() from any thread (not from a signal handler); open connections are closed.
  void Stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wharf::api
