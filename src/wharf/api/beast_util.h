// The Boost.Beast and Asio pieces of the HTTP server (http_server.cc, its request body reader
// http_body_reader.h and its answer writers http_writers.h: with their tests, the only files
// that include this one): names, and helpers on a connection's socket and request head.
// Internal to the api module.
#pragma once

// Boost 1.74's asio/awaitable.hpp needs <utility> first under g++ 12.
#include <utility>
// clang-format off
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
// clang-format on
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "wharf/api/http_message.h"
#include "wharf/base/strings.h"

namespace wharf::api {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;
using net::awaitable;
using net::use_awaitable;
using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::seconds;

// The TCP socket under a plain or TLS stream.
template <class Stream>
tcp::socket& RawSocket(Stream& stream) {
  return beast::get_lowest_layer(stream).socket();
}

// The time `bytes` take at `rate` bytes a second.
inline Clock::duration AtRate(size_t bytes, size_t rate) {
  return std::chrono::milliseconds(bytes * 1000 / std::max<size_t>(rate, 1));
}

// A request's head as the handlers see it (header names lower-cased).
inline HttpRequest HeadOf(const http::request<http::string_body>& req, const std::string& addr) {
  HttpRequest r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  ParseTarget(r.target, r.path, r.params);
  for (const auto& field : req) {
    std::string_view name(field.name_string().data(), field.name_string().size());
    r.headers.emplace_back(Lower(name), std::string(field.value()));
  }
  r.remote_addr = addr;
  return r;
}

// Sets `gone` (and calls `on_close`) when the client closes its side while the server
// works on its request; stops at the first byte it could read instead, or when the socket's
// operations are cancelled.
inline void WatchForClose(tcp::socket& socket, std::shared_ptr<std::atomic<bool>> gone,
                          std::function<void()> on_close = {}) {
  int fd = socket.native_handle();
  socket.async_wait(tcp::socket::wait_read, [fd, gone, on_close](error_code ec) {
    if (ec) return;
    char byte;
    ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      gone->store(true);
      if (on_close) on_close();
    }
  });
}

// How long a client may take over a file or parts answer: each piece within `piece`, the
// whole by `end`.
struct FileDeadline {
  Clock::duration piece;
  Clock::time_point end;
  Clock::time_point Next() const { return std::min(Clock::now() + piece, end); }
};

// How long a client may take over a request body: `timeout` from `start`, plus the bytes
// received so far at `rate`. A trickle is cut after about `timeout`, whatever size it declares.
struct BodyDeadline {
  Clock::time_point start;
  Clock::duration timeout;
  size_t rate;
  Clock::time_point After(uint64_t received) const {
    return start + timeout + AtRate(received, rate);
  }
};

// Waits for a deferred answer (http_message.h) on the connection's strand: `poll(last)` runs
// HttpDeferred::Poll on a worker and resumes here. A wake that comes while Poll runs is kept
// in a flag, so that none is lost.
template <class Stream, class PollOnWorker>
awaitable<HttpResponse> AwaitDeferred(Stream& stream, std::shared_ptr<HttpDeferred> deferred,
                                      const std::shared_ptr<std::atomic<bool>>& gone,
                                      const std::atomic<bool>& stopping, PollOnWorker poll) {
  auto timer = std::make_shared<net::steady_timer>(stream.get_executor());
  auto woken = std::make_shared<std::atomic<bool>>(false);
  auto wake = [timer, woken, ex = stream.get_executor()] {
    woken->store(true);
    net::post(ex, [timer] { timer->cancel(); });
  };
  deferred->Subscribe(wake);
  const auto end = Clock::now() + deferred->Wait();
  for (;;) {
    const bool last = Clock::now() >= end || gone->load() || stopping.load();
    std::optional<HttpResponse> answer = co_await poll(*deferred, last);
    if (answer) co_return std::move(*answer);
    if (woken->exchange(false)) continue;
    WatchForClose(RawSocket(stream), gone, wake);
    timer->expires_at(end);
    error_code ec;
    co_await timer->async_wait(net::redirect_error(use_awaitable, ec));
    error_code ignored;
    RawSocket(stream).cancel(ignored);  // ends the watch
  }
}

// Sends `length` bytes of `fd` from `offset` with sendfile(2), waiting for the socket while
// it is full, within `deadline`. False if the client left, stalled or the file ended early.
inline awaitable<bool> SendFileRange(tcp::socket& socket, int fd, uint64_t offset, uint64_t length,
                                     const FileDeadline& deadline) {
  struct Watch {
    tcp::socket* socket;
  };
  error_code ec;
  socket.native_non_blocking(true, ec);
  if (ec) co_return false;
  off_t at = static_cast<off_t>(offset);
  uint64_t left = length;
  net::steady_timer timer(socket.get_executor());
  while (left > 0) {
    ssize_t n = ::sendfile(socket.native_handle(), fd, &at, std::min<uint64_t>(left, 4 << 20));
    if (n > 0) {
      left -= static_cast<uint64_t>(n);
      continue;
    }
    if (n == 0) co_return false;  // the file is shorter than it was
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) co_return false;
    // The timer and the wait run on the connection's strand; the watch is cleared before
    // returning, so a timer that fired late finds no socket to cancel.
    auto watch = std::make_shared<Watch>(&socket);
    timer.expires_at(deadline.Next());
    timer.async_wait([watch](error_code e) {
      if (!e && watch->socket != nullptr) {
        error_code ignored;
        watch->socket->cancel(ignored);
      }
    });
    co_await socket.async_wait(tcp::socket::wait_write, net::redirect_error(use_awaitable, ec));
    watch->socket = nullptr;
    timer.cancel();
    if (ec) co_return false;
  }
  co_return true;
}

// Writes `bytes` in pieces of 256 KiB, each within `deadline`.
template <class Stream>
awaitable<bool> WriteWithin(Stream& stream, net::const_buffer bytes, const FileDeadline& deadline) {
  error_code ec;
  while (bytes.size() > 0) {
    const size_t n = std::min<size_t>(bytes.size(), 256 << 10);
    beast::get_lowest_layer(stream).expires_at(deadline.Next());
    co_await net::async_write(stream, net::buffer(bytes.data(), n),
                              net::redirect_error(use_awaitable, ec));
    if (ec) co_return false;
    bytes += n;
  }
  co_return true;
}

// Writes `length` bytes of `fd` from `offset` to a stream that encrypts (TLS): read in
// pieces of 256 KiB, within `deadline`.
template <class Stream>
awaitable<bool> CopyFileRange(Stream& stream, int fd, uint64_t offset, uint64_t length,
                              const FileDeadline& deadline) {
  std::vector<char> piece(256 << 10);
  while (length > 0) {
    ssize_t n = ::pread(fd, piece.data(), std::min<uint64_t>(length, piece.size()),
                        static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) co_return false;
    if (!co_await WriteWithin(stream, net::buffer(piece.data(), static_cast<size_t>(n)),
                              deadline)) {
      co_return false;
    }
    offset += static_cast<uint64_t>(n);
    length -= static_cast<uint64_t>(n);
  }
  co_return true;
}

// `length` bytes of `fd` from `offset` to the stream, zero-copy where the connection is plain
// TCP.
template <class Stream>
awaitable<bool> WriteFileRange(Stream& stream, int fd, uint64_t offset, uint64_t length,
                               const FileDeadline& deadline) {
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    beast::get_lowest_layer(stream).expires_never();
    co_return co_await SendFileRange(RawSocket(stream), fd, offset, length, deadline);
  } else {
    co_return co_await CopyFileRange(stream, fd, offset, length, deadline);
  }
}

}  // namespace wharf::api
