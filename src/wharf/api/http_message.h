// An HTTP request and answer as the API's handlers see them, free of the server library (the
// server, http_server.h, fills them in), and the parsing of targets, query strings, form bodies
// and cookies. Plain values; the parsers are pure and thread-safe.
#pragma once

#include <any>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wharf/base/unique_fd.h"

namespace wharf::api {

using Fields = std::vector<std::pair<std::string, std::string>>;

class HttpBodySink;

struct HttpRequest {
  std::string method;  // "GET", ...
  std::string target;  // as sent: "/api/v1/image/?from=local"
  std::string path;    // the target's path, percent-decoded once
  Fields params;       // the query, decoded; in order, repeats kept
  Fields headers;      // names lower-cased
  std::string body;    // empty until the body is read (see HttpHandler)
  std::string remote_addr;
  // Set by the server when the client has closed its side while the request is handled, so
  // that a long upstream call can stop. Never null.
  std::shared_ptr<const std::atomic<bool>> client_gone =
      std::make_shared<const std::atomic<bool>>(false);
  const std::atomic<bool>* server_stopping = nullptr;  // set while the server stops
  std::any context;  // what the handler's Admit() kept for Handle()
  // Set by Admit() to take the body piece by piece instead of into `body` (see HttpBodySink).
  std::shared_ptr<HttpBodySink> body_sink;

  // The client left or the server is stopping: work for this request may stop.
  bool Abandoned() const;
  // The first value of a header (name in any case), or nullptr.
  const std::string* Header(std::string_view name) const;
  std::string HeaderOr(std::string_view name, std::string fallback = "") const;
  bool HasParam(std::string_view name) const;
  // The first value of a query parameter, or "".
  std::string Param(std::string_view name) const;
};

// A long answer written piece by piece (Server-Sent Events). Its methods are called on the
// connection's I/O strand and must not block.
class HttpStream {
 public:
  virtual ~HttpStream() = default;
  // The text ready now ("" if none yet), or nullopt when the stream has ended.
  virtual std::optional<std::string> Take() = 0;
  // `wake` is to be called, from any thread, whenever Take() may have more; called once,
  // before the first Take().
  virtual void OnReady(std::function<void()> wake) = 0;
  // Written when nothing came for the heartbeat interval (15 s), to keep proxies open.
  virtual std::string Heartbeat() = 0;
};

struct HttpResponse;

// An answer that waits for something (a pull-through download) without holding a thread: the
// server calls Subscribe once, then Poll on a worker, again after each wake, and a last time
// (`last` true) when Wait() has passed or the client left, until Poll gives the answer (which
// may not be deferred itself).
class HttpDeferred {
 public:
  virtual ~HttpDeferred() = default;
  // `wake` is to be called, from any thread, whenever Poll may have an answer.
  virtual void Subscribe(std::function<void()> wake) = 0;
  // The answer, or nullopt to wait for the next wake; never nullopt when `last`.
  virtual std::optional<HttpResponse> Poll(bool last) = 0;
  // How long to wait at most.
  virtual std::chrono::seconds Wait() const = 0;
};

// A range of an open file answered as the body (a blob of the Distribution API), sent with
// sendfile(2) on plain TCP connections and read piece by piece under TLS; Content-Length is
// `length`.
struct FileBody {
  UniqueFd fd;
  uint64_t offset = 0;
  uint64_t length = 0;
};

// A body made of runs held in memory and ranges of open files, in order (an image archive
// streamed from the blob store as it is read): the bytes go out as they are, the file ranges
// like a FileBody (sendfile(2) on plain TCP). Content-Length is Length(). The file descriptors
// are borrowed: `owner` keeps them open until the answer is written.
struct BodyPart {
  std::string bytes;  // when fd < 0
  int fd = -1;
  uint64_t offset = 0;  // file parts: the range
  uint64_t length = 0;
};
struct PartsBody {
  std::vector<BodyPart> parts;
  std::shared_ptr<const void> owner;
  uint64_t Length() const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  Fields headers;
  std::shared_ptr<const std::string> body;  // null = empty; shared, so never copied
  std::shared_ptr<HttpStream> stream;       // set: a chunked stream instead of body
  std::shared_ptr<FileBody> file;           // set: this file range instead of body
  std::shared_ptr<PartsBody> parts;         // set: these parts instead of body
  std::shared_ptr<HttpDeferred> deferred;   // set: the answer comes later, from it
  bool close = false;                       // close the connection after this answer

  void SetBody(std::string text, std::string type = "application/json");
  void AddHeader(std::string name, std::string value);
};

// A request body taken piece by piece as it arrives (an image archive of gigabytes), set on the
// request by the handler's Admit(): its Limit() replaces the server's max_body_bytes, and the
// reading of the body keeps the server's deadlines (body_timeout_s plus the bytes so far at
// min_rate_bytes_s). Once every byte was taken, Handle() is called as for any request (with
// `body` empty). Its methods run on a worker of the request's lane, one at a time, in order;
// while Take() runs, nothing more is read from the client (memory stays bounded).
class HttpBodySink {
 public:
  virtual ~HttpBodySink() = default;
  // The most bytes the body may have; a body declared or counted over it is answered 413 (the
  // server's refusal), after Abandon().
  virtual uint64_t Limit() const = 0;
  // The next bytes of the body. An answer stops the reading: it is sent instead of Handle()'s,
  // and the connection is closed.
  virtual std::optional<HttpResponse> Take(std::string_view bytes) = 0;
  // The body will not all come (the client left, failed a deadline, sent a malformed chunk or
  // too much, or the server stops): called instead of Handle(); the sink drops what it kept.
  virtual void Abandon() = 0;
};

// "%41b+c" → "Ab c" when `plus_is_space` (query strings and forms), bytes as they come: the
// result may hold any byte, NUL and invalid UTF-8 included. A '%' not followed by two hex
// digits stays as it is.
std::string PercentDecode(std::string_view text, bool plus_is_space);
// "a=1&b=&c" → {a,1}, {b,""}, {c,""}; names and values decoded.
Fields ParseQuery(std::string_view query);
// Splits a request target into its decoded path and query parameters.
void ParseTarget(std::string_view target, std::string& path, Fields& params);
// The value of cookie `name` in a Cookie header, or "".
std::string CookieValue(std::string_view header, std::string_view name);

// The user name and password of an `Authorization: Basic ...` header value; nullopt when it
// is not Basic, not base64 or has no ':'.
std::optional<std::pair<std::string, std::string>> BasicCredentials(std::string_view header);
// The token of an `Authorization: Bearer ...` header value, or "".
std::string BearerToken(std::string_view header);

// What a Range header asks of a body of `size` bytes.
struct ByteRange {
  enum Kind { kWhole, kPart, kUnsatisfiable } kind = kWhole;
  uint64_t first = 0;   // kPart: the first byte
  uint64_t length = 0;  // kPart: how many
};
// "bytes=0-99", "bytes=100-", "bytes=-100" (the last 100). kWhole when there is no header, it
// is not a bytes range, it asks for several ranges or is malformed (a server may ignore a
// Range); kUnsatisfiable when it starts past the end or asks for nothing.
ByteRange ParseRange(std::string_view header, uint64_t size);

}  // namespace wharf::api
