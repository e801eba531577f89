// How the HTTP server (http_server.cc) reads the body of a request it admitted: whole into the
// parser's string, or piece by piece into an HttpBodySink (http_message.h). Either way a
// declared Content-Length over the limit ends it at once (before "100 Continue", which is sent
// otherwise when the client waits for it), a chunked body is counted as decoded, and the body
// must come within the deadline of HttpServerOptions: body_timeout_s plus the bytes received so
// far at min_rate_bytes_s (the time a sink takes over a piece is not counted against the
// client). Internal to the api module; used on the connection's strand.
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "wharf/api/beast_util.h"
#include "wharf/api/http_server.h"

namespace wharf::api {

// How the reading of a body ended.
struct BodyRead {
  enum End {
    kWhole,     // every byte read, or taken by the sink
    kTooLarge,  // declared or counted over the limit: to be refused 413 (the sink abandoned)
    kFailed,    // the client left, failed the deadline or sent a malformed body, or the server
                // stops (the sink abandoned)
    kAnswered,  // the sink answered `answer` (500 when Take() threw, and abandoned then)
  } end = kWhole;
  HttpResponse answer;
};

class BodyReader {
 public:
  // Both are borrowed: the server's options, and its flag that it stops.
  BodyReader(const HttpServerOptions& options, const std::atomic<bool>& stopping)
      : options_(options), stopping_(stopping) {}

  // The body into parser.get().body(), at most `limit` bytes: kWhole, kTooLarge or kFailed.
  template <class Stream>
  awaitable<BodyRead> ReadWhole(Stream& stream, beast::flat_buffer& buffer,
                                http::request_parser<http::string_body>& parser,
                                uint64_t limit) const;

  // The body, at most `limit` bytes, to `sink` in pieces of at most kSinkPiece, each taken
  // before more is read; `head` (its header read, its body not) is moved from. on_worker(fn)
  // runs fn (giving an HttpResponse) on a worker of the request's lane and resumes here, as an
  // awaitable<HttpResponse>. Unless the end is kWhole or a sink's own answer, sink->Abandon()
  // has been called, once; also when this coroutine is destroyed before its end (inline then).
  template <class Stream, class OnWorker>
  awaitable<BodyRead> ReadToSink(Stream& stream, beast::flat_buffer& buffer,
                                 http::request_parser<http::string_body>& head,
                                 std::shared_ptr<HttpBodySink> sink, uint64_t limit,
                                 OnWorker on_worker) const;

 private:
  static constexpr size_t kSinkPiece = 1 << 20;
  static constexpr size_t kReadSize = 1 << 16;

  // Calls Abandon() at its end unless settled.
  struct Settlement {
    std::shared_ptr<HttpBodySink> sink;
    bool settled = false;
    ~Settlement() {
      if (settled) return;
      try {
        sink->Abandon();
      } catch (const std::exception& e) {
        spdlog::error("request body sink failed: {}", e.what());
      }
    }
  };

  template <class Stream>
  awaitable<error_code> Begin(Stream& stream, const http::request_parser<http::string_body>& head,
                              uint64_t limit) const;
  BodyDeadline Deadline() const {
    return {Clock::now(), Seconds(options_.body_timeout_s), options_.min_rate_bytes_s};
  }

  const HttpServerOptions& options_;
  const std::atomic<bool>& stopping_;
};

// body_limit when the declared length is over `limit`; else "100 Continue" if the client waits
// for it, and the error of writing it.
template <class Stream>
awaitable<error_code> BodyReader::Begin(Stream& stream,
                                        const http::request_parser<http::string_body>& head,
                                        uint64_t limit) const {
  if (head.content_length().value_or(0) > limit) co_return http::error::body_limit;
  error_code ec;
  if (beast::iequals(head.get()[http::field::expect], "100-continue")) {
    http::response<http::empty_body> go_on{http::status::continue_, head.get().version()};
    beast::get_lowest_layer(stream).expires_after(Seconds(options_.write_timeout_s));
    co_await http::async_write(stream, go_on, net::redirect_error(use_awaitable, ec));
  }
  co_return ec;
}

template <class Stream>
awaitable<BodyRead> BodyReader::ReadWhole(Stream& stream, beast::flat_buffer& buffer,
                                          http::request_parser<http::string_body>& parser,
                                          uint64_t limit) const {
  error_code ec = co_await Begin(stream, parser, limit);
  parser.body_limit(limit);
  const BodyDeadline deadline = Deadline();
  uint64_t received = 0;
  while (!ec && !parser.is_done()) {
    beast::get_lowest_layer(stream).expires_at(deadline.After(received));
    received += co_await http::async_read_some(stream, buffer, parser,
                                               net::redirect_error(use_awaitable, ec));
  }
  if (ec == http::error::body_limit) co_return BodyRead{BodyRead::kTooLarge};
  co_return BodyRead{ec ? BodyRead::kFailed : BodyRead::kWhole};
}

template <class Stream, class OnWorker>
awaitable<BodyRead> BodyReader::ReadToSink(Stream& stream, beast::flat_buffer& buffer,
                                           http::request_parser<http::string_body>& head,
                                           std::shared_ptr<HttpBodySink> sink, uint64_t limit,
                                           OnWorker on_worker) const {
  Settlement settlement{sink};
  auto abandon = [&] {
    settlement.settled = true;
    return on_worker([&] {
      sink->Abandon();
      return HttpResponse{};
    });
  };
  error_code ec = co_await Begin(stream, head, limit);
  http::request_parser<http::buffer_body> parser{std::move(head)};
  parser.body_limit(limit);
  std::vector<char> piece(ec ? 0 : kSinkPiece);
  buffer.reserve(kReadSize);
  BodyDeadline deadline = Deadline();
  uint64_t received = 0;
  size_t filled = 0;
  while (!ec && !parser.is_done() && !stopping_.load()) {
    parser.get().body().data = piece.data() + filled;
    parser.get().body().size = piece.size() - filled;
    beast::get_lowest_layer(stream).expires_at(deadline.After(received));
    co_await http::async_read_some(stream, buffer, parser, net::redirect_error(use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};  // the piece is full
    const size_t got = piece.size() - filled - parser.get().body().size;
    received += got;
    filled += got;
    if (filled == 0 || (filled < piece.size() && !parser.is_done() && !ec)) continue;
    const size_t taken = filled;
    filled = 0;
    const auto taking = Clock::now();
    bool threw = false;
    HttpResponse answer = co_await on_worker([&] {
      try {
        return sink->Take(std::string_view(piece.data(), taken))
            .value_or(HttpResponse{.status = 0});
      } catch (...) {
        threw = true;  // on_worker answers 500
        throw;
      }
    });
    deadline.start += Clock::now() - taking;
    if (answer.status == 0) continue;
    settlement.settled = true;
    if (threw) co_await abandon();
    co_return BodyRead{BodyRead::kAnswered, std::move(answer)};
  }
  if (!ec && parser.is_done()) {
    settlement.settled = true;
    co_return BodyRead{BodyRead::kWhole};
  }
  co_await abandon();
  co_return BodyRead{ec == http::error::body_limit ? BodyRead::kTooLarge : BodyRead::kFailed};
}

}  // namespace wharf::api
