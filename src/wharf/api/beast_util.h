// The Boost.Beast and Asio pieces of the HTTP server (http_server.cc, the only file that
// includes this one): names, and helpers on a connection's socket and request head.
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
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

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

}  // namespace wharf::api
