// For the HTTP server's tests: a server on a loopback port serving on its own thread, plain or
// over TLS (a fixed self-signed certificate), and a blocking client that writes raw bytes and
// reads answers with Beast's parser.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "wharf/api/beast_util.h"
#include "wharf/api/http_server.h"

namespace wharf::api {

// Byte `i` of the test bodies: it changes within a piece and from piece to piece, so that a
// lost, repeated or reordered piece shows.
inline char BodyByte(uint64_t i) { return static_cast<char>(i * 131 + (i >> 13) * 7); }
inline std::string BodyBytes(uint64_t from, uint64_t count) {
  std::string out(count, '\0');
  for (uint64_t i = 0; i < count; ++i) out[i] = BodyByte(from + i);
  return out;
}

// A self-signed P-256 certificate for CN=localhost (valid until 2126) and its key; the test
// clients do not verify it.
inline constexpr std::string_view kTestCert = R"(-----BEGIN CERTIFICATE-----
MIIBfzCCASWgAwIBAgIUbCiq22GwQ6Ph3SbrNWYSoxQeCwcwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMjAyNDUxOVoYDzIxMjYxMTA4
MDI0NTE5WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAARX+RqzeiyZb8RvnN55gjAKCnNDFbxf+uEMbYAfOmCRgJHXiXguyiYR
2h508Zf9fTZI912wfySj4yiVs8ne87PZo1MwUTAdBgNVHQ4EFgQU84iJC86uqxnd
KrLJ9H1R7cgAJXIwHwYDVR0jBBgwFoAU84iJC86uqxndKrLJ9H1R7cgAJXIwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiAMkzabaM/J+rSojznwt0b/
4vYbEcqzcf+uufg2nxwRrAIhAN+1H6fS6ERnHFaSeJ6QZLRdNVo8XER7lzn2a+6f
QXOg
-----END CERTIFICATE-----
)";
inline constexpr std::string_view kTestKey = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgNqNiZukskbm8GgNo
7G12GZJS120Qrt6MsNbfz2iduC2hRANCAARX+RqzeiyZb8RvnN55gjAKCnNDFbxf
+uEMbYAfOmCRgJHXiXguyiYR2h508Zf9fTZI912wfySj4yiVs8ne87PZ
-----END PRIVATE KEY-----
)";

// An HttpServer on 127.0.0.1 serving `handler` from construction to Stop() (or destruction).
class TestServer {
 public:
  TestServer(HttpHandler& handler, HttpServerOptions options, bool tls = false) {
    options.io_threads = 2;
    options.fast_workers = 2;
    options.slow_workers = 2;
    if (tls) {
      char dir[] = "/tmp/wharf-tls-XXXXXX";
      EXPECT_NE(::mkdtemp(dir), nullptr);
      dir_ = dir;
      options.tls_cert = Write("cert.pem", kTestCert);
      options.tls_key = Write("key.pem", kTestKey);
    }
    auto server = HttpServer::Create(options, handler);
    EXPECT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
    auto port = server_->Bind("127.0.0.1", 0);
    EXPECT_TRUE(port);
    port_ = port.value_or(0);
    thread_ = std::thread([this] { (void)server_->Serve(); });
  }
  ~TestServer() {
    Stop();
    for (const char* name : {"cert.pem", "key.pem"}) ::unlink((dir_ + "/" + name).c_str());
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }
  // Stops serving and destroys the server (its open connections with it).
  void Stop() {
    if (!server_) return;
    server_->Stop();
    thread_.join();
    server_.reset();
  }
  int port() const { return port_; }
  bool tls() const { return !dir_.empty(); }

 private:
  std::string Write(const char* name, std::string_view text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  std::string dir_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::thread thread_;
};

// A blocking client on one connection. Errors are returned, not thrown.
class TestClient {
 public:
  explicit TestClient(const TestServer& server) : tls_(net::ssl::context::tls_client) {
    error_code ec;
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server.port()), ec);
    EXPECT_FALSE(ec) << ec.message();
    if (server.tls()) {
      tls_.set_verify_mode(net::ssl::verify_none);
      secure_.emplace(socket_, tls_);
      secure_->handshake(net::ssl::stream_base::client, ec);
      EXPECT_FALSE(ec) << ec.message();
    }
  }

  error_code Send(std::string_view bytes) {
    error_code ec;
    With([&](auto& stream) { net::write(stream, net::buffer(bytes), ec); });
    return ec;
  }
  // The next answer (its head only when `head`), or nullopt when the connection failed first.
  std::optional<http::response<http::string_body>> Read(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    parser.skip(head);
    error_code ec;
    With([&](auto& stream) { http::read(stream, buffer_, parser, ec); });
    if (ec) return std::nullopt;
    return parser.release();
  }
  // True when the server closes the connection before sending anything more.
  bool ReadsEnd() {
    char byte;
    error_code ec;
    size_t n = 0;
    With([&](auto& stream) { n = stream.read_some(net::buffer(&byte, 1), ec); });
    return n == 0 && ec;
  }
  void Close() {
    error_code ec;
    socket_.close(ec);
  }

 private:
  template <class F>
  void With(F f) {
    if (secure_) {
      f(*secure_);
    } else {
      f(socket_);
    }
  }

  net::io_context ioc_;
  net::ssl::context tls_;
  tcp::socket socket_{ioc_};
  std::optional<net::ssl::stream<tcp::socket&>> secure_;
  beast::flat_buffer buffer_;
};

// A request head; `fields` are whole lines without their CRLF.
inline std::string RequestHead(std::string_view method, std::string_view target,
                               std::initializer_list<std::string_view> fields) {
  std::string head = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\n";
  head += "Host: localhost\r\n";
  for (std::string_view field : fields) head += std::string(field) + "\r\n";
  return head + "\r\n";
}

}  // namespace wharf::api
