#include "wharf/api/http_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <thread>

#include "wharf/api/beast_util.h"
#include "wharf/api/connection_limits.h"
#include "wharf/api/http_body_reader.h"
#include "wharf/api/http_writers.h"

namespace wharf::api {

namespace {

constexpr auto kLinger = Seconds(1);   // reading what a refused client still sends
constexpr size_t kMaxRefusing = 1024;  // refused connections lingering at once

}  // namespace

struct HttpServer::Impl {
  // Declared so that the io_context goes before what its connections refer to (options,
  // handler, tls, limits), and the acceptor before the io_context.
  HttpServerOptions options;
  HttpHandler& handler;
  std::optional<net::ssl::context> tls;
  ConnectionLimits limits;
  std::atomic<size_t> refusing{0};
  std::atomic<bool> stopping{false};
  BodyReader reader{options, stopping};
  AnswerWriter writer{options, stopping};
  net::thread_pool fast;
  net::thread_pool slow;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};

  Impl(HttpServerOptions o, HttpHandler& h)
      : options(std::move(o)),
        handler(h),
        limits(options.max_connections, options.max_connections_per_client),
        fast(options.fast_workers),
        slow(options.slow_workers) {}

  // Runs `fn` (returning an HttpResponse) on a worker of `lane`; the coroutine resumes on its
  // own strand. Meanwhile `gone` is set if the client closes its side.
  template <class Stream, class F>
  awaitable<HttpResponse> OnWorker(HttpHandler::Lane lane, Stream& stream,
                                   const std::shared_ptr<std::atomic<bool>>& gone, F fn) {
    std::optional<HttpResponse> result;
    auto& pool = lane == HttpHandler::Lane::kFast ? fast : slow;
    WatchForClose(RawSocket(stream), gone);
    co_await net::co_spawn(
        pool,
        [&]() -> awaitable<void> {
          try {
            result.emplace(fn());
          } catch (const std::exception& e) {
            spdlog::error("request handler failed: {}", e.what());
            result.emplace(handler.Refusal(500, std::string("internal error: ") + e.what()));
          }
          co_return;
        },
        use_awaitable);
    error_code ec;
    RawSocket(stream).cancel(ec);  // ends the watch
    co_return std::move(*result);
  }

  static std::string BodyTooLarge(uint64_t limit) {
    return "request body too large (at most " + std::to_string(limit) + " bytes)";
  }
  // What to answer when a request's head could not be read; nullopt: close without a word.
  std::optional<std::pair<int, std::string>> HeadRefusal(const error_code& ec,
                                                         const beast::flat_buffer& buffer) const {
    if (ec == http::error::header_limit) {  // the whole head is in the buffer, unparsed
      std::string_view head(static_cast<const char*>(buffer.data().data()), buffer.size());
      const bool in_target = head.find("\r\n") == std::string_view::npos;
      return std::pair{in_target ? 414 : 431,
                       std::string(in_target ? "request target" : "request headers") +
                           " too large (at most " + std::to_string(options.max_header_bytes) +
                           " bytes)"};
    }
    if (ec == beast::error::timeout || ec == http::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::connection_reset) {
      return std::nullopt;
    }
    return std::pair{400, "malformed request: " + ec.message()};
  }

  template <class Stream>
  awaitable<bool> RefuseWith(Stream& stream, HttpResponse answer, unsigned version);
  template <class Stream>
  awaitable<bool> Refuse(Stream& stream, int status, const std::string& message,
                         unsigned version = 11);
  template <class Stream>
  awaitable<std::optional<HttpResponse>> ReadAndHandle(
      Stream& stream, beast::flat_buffer& buffer, http::request_parser<http::string_body>& parser,
      HttpRequest& request, HttpHandler::Lane lane, const std::shared_ptr<std::atomic<bool>>& gone,
      uint64_t limit);
  template <class Stream>
  awaitable<bool> Exchange(Stream& stream, beast::flat_buffer& buffer,
                           http::request_parser<http::string_body>& parser, const std::string& addr,
                           size_t served);
  template <class Stream>
  awaitable<void> Converse(Stream& stream, const std::string& addr, Clock::time_point start);
  awaitable<void> Connection(tcp::socket socket, std::string addr);
  awaitable<void> RefuseConnection(tcp::socket socket, std::string message);
  awaitable<void> Accept();
};

// Answers a request the server will not read to its end, then gives the client a moment to
// stop sending (closing on unread bytes would reset the connection and lose the answer).
template <class Stream>
awaitable<bool> HttpServer::Impl::RefuseWith(Stream& stream, HttpResponse answer,
                                             unsigned version) {
  co_await writer.Write(stream, answer, version, false, false);
  auto& socket = RawSocket(stream);
  error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  auto& lowest = beast::get_lowest_layer(stream);
  lowest.expires_after(kLinger);
  std::array<char, 16384> sink;
  for (size_t taken = 0; !ec && taken < options.max_body_bytes;) {
    taken +=
        co_await lowest.async_read_some(net::buffer(sink), net::redirect_error(use_awaitable, ec));
  }
  co_return false;
}

template <class Stream>
awaitable<bool> HttpServer::Impl::Refuse(Stream& stream, int status, const std::string& message,
                                         unsigned version) {
  HttpResponse answer = handler.Refusal(status, message);
  if (status == 503 || status == 429) answer.AddHeader("Retry-After", "1");
  co_return co_await RefuseWith(stream, std::move(answer), version);
}

// One request and its answer, from headers already read. False: close the connection.
template <class Stream>
awaitable<bool> HttpServer::Impl::Exchange(Stream& stream, beast::flat_buffer& buffer,
                                           http::request_parser<http::string_body>& parser,
                                           const std::string& addr, size_t served) {
  const auto& head = parser.get();
  const unsigned version = head.version();
  const bool keep_alive = head.keep_alive();  // `head` is moved from when a sink takes the body
  if (static_cast<size_t>(std::distance(head.begin(), head.end())) > options.max_header_fields) {
    co_return co_await Refuse(
        stream, 431,
        "too many header fields (at most " + std::to_string(options.max_header_fields) + ")",
        version);
  }
  HttpRequest request = HeadOf(head, addr);
  auto gone = std::make_shared<std::atomic<bool>>(false);
  request.client_gone = gone;
  request.server_stopping = &stopping;
  const HttpHandler::Lane lane = handler.LaneOf(request);
  const bool has_body = !parser.is_done();
  uint64_t limit = options.max_body_bytes;
  HttpResponse answer = co_await OnWorker(lane, stream, gone, [&] {
    std::optional<HttpResponse> refused = handler.Admit(request);
    if (!refused && request.body_sink) limit = request.body_sink->Limit();
    if (refused || has_body) return refused ? std::move(*refused) : HttpResponse{.status = 0};
    return handler.Handle(request);
  });
  if (answer.status == 0) {  // admitted, with a body to read
    auto handled = co_await ReadAndHandle(stream, buffer, parser, request, lane, gone, limit);
    if (!handled) co_return false;
    answer = std::move(*handled);
  } else if (has_body) {
    answer.close = true;  // refused before its body, which is not read
    co_return co_await RefuseWith(stream, std::move(answer), version);
  }
  while (answer.deferred) {  // a pull-through request waiting for its download
    answer = co_await AwaitDeferred(
        stream, std::move(answer.deferred), gone, stopping,
        [&](HttpDeferred& d, bool last) -> awaitable<std::optional<HttpResponse>> {
          HttpResponse polled = co_await OnWorker(
              lane, stream, gone, [&] { return d.Poll(last).value_or(HttpResponse{.status = 0}); });
          if (polled.status == 0) co_return std::nullopt;
          co_return polled;
        });
  }
  bool keep = keep_alive && !answer.close && !answer.stream &&
              served + 1 < options.max_requests_per_connection && !stopping.load();
  bool written = co_await writer.Write(stream, answer, version, keep, request.method == "HEAD");
  co_return written&& keep;
}

// Reads the body of an admitted request, at most `limit` bytes, into request.body or to its
// sink, then handles the request. nullopt: the connection is done (the body was refused, the
// sink answered, or the body did not all come).
template <class Stream>
awaitable<std::optional<HttpResponse>> HttpServer::Impl::ReadAndHandle(
    Stream& stream, beast::flat_buffer& buffer, http::request_parser<http::string_body>& parser,
    HttpRequest& request, HttpHandler::Lane lane, const std::shared_ptr<std::atomic<bool>>& gone,
    uint64_t limit) {
  const unsigned version = parser.get().version();
  auto on_worker = [&](auto fn) { return OnWorker(lane, stream, gone, std::move(fn)); };
  BodyRead read;
  if (request.body_sink) {
    read = co_await reader.ReadToSink(stream, buffer, parser, request.body_sink, limit, on_worker);
  } else {
    read = co_await reader.ReadWhole(stream, buffer, parser, limit);
    request.body = std::move(parser.get().body());
  }
  if (read.end == BodyRead::kTooLarge) co_await Refuse(stream, 413, BodyTooLarge(limit), version);
  if (read.end == BodyRead::kAnswered) co_await RefuseWith(stream, std::move(read.answer), version);
  if (read.end != BodyRead::kWhole) co_return std::nullopt;
  co_return co_await on_worker([&] { return handler.Handle(request); });
}

// Requests on one connection until it closes, fails a deadline or is not to be kept.
template <class Stream>
awaitable<void> HttpServer::Impl::Converse(Stream& stream, const std::string& addr,
                                           Clock::time_point start) {
  beast::flat_buffer buffer;
  auto& lowest = beast::get_lowest_layer(stream);
  for (size_t served = 0; !stopping.load(); ++served) {
    error_code ec;
    if (served > 0 && buffer.size() == 0) {  // kept alive: wait for the next request
      lowest.expires_after(Seconds(options.idle_timeout_s));
      size_t n = co_await stream.async_read_some(buffer.prepare(4096),
                                                 net::redirect_error(use_awaitable, ec));
      if (ec) co_return;
      buffer.commit(n);
      start = Clock::now();
    }
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    // The body's limit is set once the request is admitted (a sink has its own). Not
    // boost::none: Beast 1.74 then refuses every Content-Length.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    lowest.expires_at(start + Seconds(options.header_timeout_s));
    co_await http::async_read_header(stream, buffer, parser,
                                     net::redirect_error(use_awaitable, ec));
    if (ec) {
      if (auto refusal = HeadRefusal(ec, buffer)) {
        co_await Refuse(stream, refusal->first, refusal->second);
      }
      co_return;
    }
    if (!co_await Exchange(stream, buffer, parser, addr, served)) co_return;
    start = Clock::now();
  }
}

awaitable<void> HttpServer::Impl::Connection(tcp::socket socket, std::string addr) {
  struct Place {
    ConnectionLimits& limits;
    const std::string& addr;
    ~Place() { limits.Give(addr); }
  } place{limits, addr};
  const auto start = Clock::now();
  beast::tcp_stream plain(std::move(socket));
  try {
    if (!tls) {
      co_await Converse(plain, addr, start);
    } else {
      beast::ssl_stream<beast::tcp_stream> secure(std::move(plain), *tls);
      beast::get_lowest_layer(secure).expires_at(start + Seconds(options.header_timeout_s));
      error_code ec;
      co_await secure.async_handshake(net::ssl::stream_base::server,
                                      net::redirect_error(use_awaitable, ec));
      if (!ec) co_await Converse(secure, addr, start);
    }
  } catch (const std::exception& e) {
    spdlog::warn("connection from {} ended: {}", addr, e.what());
  }
}

// Over a connection limit: 503 at once, without reading the request. (Over TLS the answer
// would need a handshake first; such a connection is closed instead.)
awaitable<void> HttpServer::Impl::RefuseConnection(tcp::socket socket, std::string message) {
  struct Count {
    std::atomic<size_t>& n;
    ~Count() { --n; }
  } count{refusing};
  beast::tcp_stream stream(std::move(socket));
  try {
    co_await Refuse(stream, 503, message);
  } catch (const std::exception&) {
  }
}

awaitable<void> HttpServer::Impl::Accept() {
  auto last_warning = Clock::time_point();
  net::steady_timer pause(ioc);
  while (acceptor.is_open() && !stopping.load()) {
    tcp::socket socket(net::make_strand(ioc));
    error_code ec;
    co_await acceptor.async_accept(socket, net::redirect_error(use_awaitable, ec));
    if (ec == net::error::operation_aborted || stopping.load()) co_return;
    if (ec) {  // out of file descriptors, most likely: wait for some to be closed
      if (Clock::now() - last_warning > Seconds(10)) {
        spdlog::warn("cannot accept a connection: {}", ec.message());
        last_warning = Clock::now();
      }
      pause.expires_after(std::chrono::milliseconds(50));
      co_await pause.async_wait(net::redirect_error(use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    std::string addr = socket.remote_endpoint(ec).address().to_string();
    auto executor = socket.get_executor();
    if (auto over = limits.Take(addr)) {
      if (tls || refusing.load() >= kMaxRefusing) continue;  // closed without an answer
      ++refusing;  // counted here; the coroutine gives it back
      net::co_spawn(executor, RefuseConnection(std::move(socket), *over), net::detached);
    } else {
      net::co_spawn(executor, Connection(std::move(socket), std::move(addr)), net::detached);
    }
  }
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  Stop();
  impl_->fast.join();
  impl_->slow.join();
}

Result<std::unique_ptr<HttpServer>> HttpServer::Create(HttpServerOptions options,
                                                       HttpHandler& handler) {
  const size_t cores = std::max(2u, std::thread::hardware_concurrency());
  if (options.io_threads == 0) options.io_threads = cores;
  if (options.fast_workers == 0) options.fast_workers = cores;
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return InvalidArgument("tls_cert and tls_key must be set together");
  }
  auto impl = std::make_unique<Impl>(options, handler);
  if (!options.tls_cert.empty()) {
    try {
      impl->tls.emplace(net::ssl::context::tls_server);
      impl->tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                             net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                             net::ssl::context::no_tlsv1_1);
      impl->tls->use_certificate_chain_file(options.tls_cert);
      impl->tls->use_private_key_file(options.tls_key, net::ssl::context::pem);
    } catch (const std::exception& e) {
      return InvalidArgument("cannot load the TLS certificate or key (" + options.tls_cert +
                             "): " + e.what());
    }
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

Result<int> HttpServer::Bind(const std::string& host, int port) {
  error_code ec;
  tcp::resolver resolver(impl_->ioc);
  auto found = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  auto& acceptor = impl_->acceptor;
  if (!ec && !found.empty()) {
    tcp::endpoint endpoint = found.begin()->endpoint();
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(1024, ec);
  }
  if (ec || found.empty()) {
    return Unavailable("cannot listen on " + host + ":" + std::to_string(port) + " (" +
                       (ec ? ec.message() : "no such address") + ")");
  }
  return acceptor.local_endpoint().port();
}

Result<void> HttpServer::Serve() {
  net::co_spawn(impl_->ioc, impl_->Accept(), net::detached);
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl_->options.io_threads; ++i) {
    threads.emplace_back([this] { impl_->ioc.run(); });
  }
  impl_->ioc.run();
  for (auto& t : threads) t.join();
  return {};
}

void HttpServer::Stop() {
  impl_->stopping.store(true);
  net::post(impl_->ioc, [this] {
    error_code ec;
    impl_->acceptor.close(ec);
  });
  impl_->ioc.stop();
}

}  // namespace wharf::api
