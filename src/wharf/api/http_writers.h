// How the HTTP server (http_server.cc) writes an answer on a connection: a body held in memory,
// a file range, parts (memory runs and file ranges, in order) or a chunked stream, within the
// write deadlines of HttpServerOptions: a whole answer within write_timeout_s plus its size at
// min_rate_bytes_s, and each piece of a file, parts or stream answer within write_timeout_s.
// File ranges go out with sendfile(2) on plain TCP, read piece by piece under TLS. Internal to
// the api module; used on the connection's strand.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "wharf/api/beast_util.h"
#include "wharf/api/http_server.h"

namespace wharf::api {

class AnswerWriter {
 public:
  // Both are borrowed: the server's options, and its flag that it stops (which ends streams).
  AnswerWriter(const HttpServerOptions& options, const std::atomic<bool>& stopping)
      : options_(options), stopping_(stopping) {}

  // Writes `answer` (not deferred) with Connection keep-alive or close as `keep` says; only its
  // headers when `head` (a HEAD request; Content-Length still that of the body). True when it
  // was written and the connection may serve another request; false when the client left or
  // failed a deadline, and after a stream, which is never kept. What an answer borrows (a
  // file, the owner of its parts) is held by `answer` until this returns.
  template <class Stream>
  awaitable<bool> Write(Stream& stream, HttpResponse& answer, unsigned version, bool keep,
                        bool head) const;

 private:
  static constexpr auto kHeartbeat = Seconds(15);

  template <class Stream>
  awaitable<bool> WriteParts(Stream& stream, const HttpResponse& answer, unsigned version,
                             bool keep, bool head, std::span<const BodyPart> parts,
                             uint64_t length) const;
  template <class Stream>
  awaitable<bool> WriteStream(Stream& stream, HttpResponse& answer, unsigned version) const;

  const HttpServerOptions& options_;
  const std::atomic<bool>& stopping_;
};

// The status line and headers of `answer`.
template <class Body>
http::response<Body> ResponseHead(const HttpResponse& answer, unsigned version, bool keep) {
  http::response<Body> res{static_cast<http::status>(answer.status), version};
  res.set(http::field::content_type, answer.content_type);
  for (const auto& [name, value] : answer.headers) res.insert(name, value);
  res.keep_alive(keep);
  return res;
}

template <class Stream>
awaitable<bool> AnswerWriter::Write(Stream& stream, HttpResponse& answer, unsigned version,
                                    bool keep, bool head) const {
  if (answer.stream) co_return co_await WriteStream(stream, answer, version);
  if (answer.file) {
    const BodyPart part{
        .fd = answer.file->fd.get(), .offset = answer.file->offset, .length = answer.file->length};
    co_return co_await WriteParts(stream, answer, version, keep, head, std::span(&part, 1),
                                  part.length);
  }
  if (answer.parts) {
    const PartsBody& parts = *answer.parts;
    co_return co_await WriteParts(stream, answer, version, keep, head, parts.parts, parts.Length());
  }
  static const std::string kEmpty;
  const std::string& body = answer.body ? *answer.body : kEmpty;
  auto res = ResponseHead<http::span_body<const char>>(answer, version, keep);
  if (head) {
    res.content_length(body.size());
  } else {
    res.body() = std::span<const char>(body.data(), body.size());
    res.prepare_payload();
  }
  beast::get_lowest_layer(stream).expires_after(Seconds(options_.write_timeout_s) +
                                                AtRate(body.size(), options_.min_rate_bytes_s));
  error_code ec;
  co_await http::async_write(stream, res, net::redirect_error(use_awaitable, ec));
  co_return !ec;
}

// Headers with Content-Length `length` (the parts' sum), then the parts in order: each piece
// must leave within the write deadline, and the whole within it plus `length` at the minimum
// rate.
template <class Stream>
awaitable<bool> AnswerWriter::WriteParts(Stream& stream, const HttpResponse& answer,
                                         unsigned version, bool keep, bool head,
                                         std::span<const BodyPart> parts, uint64_t length) const {
  auto res = ResponseHead<http::empty_body>(answer, version, keep);
  res.content_length(length);
  http::response_serializer<http::empty_body> serializer{res};
  beast::get_lowest_layer(stream).expires_after(Seconds(options_.write_timeout_s));
  error_code ec;
  co_await http::async_write_header(stream, serializer, net::redirect_error(use_awaitable, ec));
  if (ec) co_return false;
  if (head) co_return true;
  const FileDeadline deadline{
      Seconds(options_.write_timeout_s),
      Clock::now() + Seconds(options_.write_timeout_s) + AtRate(length, options_.min_rate_bytes_s)};
  for (const BodyPart& part : parts) {
    bool sent;
    if (part.fd >= 0) {
      sent = co_await WriteFileRange(stream, part.fd, part.offset, part.length, deadline);
    } else {
      sent = co_await WriteWithin(stream, net::buffer(part.bytes), deadline);
    }
    if (!sent) co_return false;
  }
  co_return true;
}

// A chunked answer fed by answer.stream until it ends, the client leaves, the server stops or a
// piece is not taken within the write deadline.
template <class Stream>
awaitable<bool> AnswerWriter::WriteStream(Stream& stream, HttpResponse& answer,
                                          unsigned version) const {
  auto res = ResponseHead<http::empty_body>(answer, version, false);
  res.chunked(true);
  http::response_serializer<http::empty_body> serializer{res};
  auto& lowest = beast::get_lowest_layer(stream);
  error_code ec;
  lowest.expires_after(Seconds(options_.write_timeout_s));
  co_await http::async_write_header(stream, serializer, net::redirect_error(use_awaitable, ec));
  if (ec) co_return false;
  auto timer = std::make_shared<net::steady_timer>(stream.get_executor());
  auto wake = [timer, ex = stream.get_executor()] { net::post(ex, [timer] { timer->cancel(); }); };
  answer.stream->OnReady(wake);
  auto gone = std::make_shared<std::atomic<bool>>(false);
  WatchForClose(RawSocket(stream), gone, wake);
  while (!gone->load() && !stopping_.load()) {
    std::optional<std::string> text = answer.stream->Take();
    if (!text) break;
    if (text->empty()) {
      timer->expires_after(kHeartbeat);
      co_await timer->async_wait(net::redirect_error(use_awaitable, ec));
      if (ec) continue;  // woken: something to take, or the client left
      text = answer.stream->Heartbeat();
    }
    lowest.expires_after(Seconds(options_.write_timeout_s));
    co_await net::async_write(stream, http::make_chunk(net::buffer(*text)),
                              net::redirect_error(use_awaitable, ec));
    if (ec) co_return false;
  }
  if (!gone->load()) {
    lowest.expires_after(Seconds(options_.write_timeout_s));
    co_await net::async_write(stream, http::make_chunk_last(),
                              net::redirect_error(use_awaitable, ec));
  }
  co_return false;
}

}  // namespace wharf::api
