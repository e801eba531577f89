// Test support for the registry module: a real docker-registry process on a loopback port,
// plain-HTTP helpers to push content into it, and a tiny HTTP server for the cases a real
// registry cannot play (Bearer token flows, cross-host redirects, pagination, odd answers).
// Network use stays on 127.0.0.1.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "wharf/base/clock.h"
#include "wharf/base/status.h"

namespace wharf::registry::testing {

// A port on 127.0.0.1 that was free a moment ago.
int FreeLoopbackPort();

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs `command` through /bin/sh; its stdout, or an error with the exit status.
Result<std::string> RunCommand(const std::string& command);

struct RegistryConfig {
  std::string username;  // non-empty: htpasswd auth with this user
  std::string password;
  bool tls = false;  // serve https with a fresh self-signed certificate for 127.0.0.1
};

// A docker-registry serving from a temporary directory; killed and cleaned up on destruction.
class RegistryProcess {
 public:
  // Starts the registry and waits until GET /v2/ answers.
  static Result<std::unique_ptr<RegistryProcess>> Start(const RegistryConfig& config = {});
  ~RegistryProcess();

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string url() const { return (tls_ ? "https://" : "http://") + host(); }
  // The self-signed certificate of a tls registry, usable as a CA file.
  std::filesystem::path cert_file() const { return dir_.path() / "cert.pem"; }

  // Pushes with the configured credentials.
  Result<void> PushBlob(const std::string& name, const std::string& data) const;
  Result<void> PushManifest(const std::string& name, const std::string& tag,
                            const std::string& media_type, const std::string& body) const;

 private:
  RegistryProcess() = default;
  TempDir dir_;
  int port_ = 0;
  bool tls_ = false;
  pid_t pid_ = -1;
  std::string userpwd_;  // "user:pass" or ""
};

// A minimal HTTP/1.1 server: one connection at a time, one request per connection.
struct FakeRequest {
  std::string method;
  std::string target;                          // "/v2/foo/tags/list?n=2"
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;                            // as its Content-Length says

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

struct FakeResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Hang up after this many body bytes (Content-Length still announces the whole body), as
  // a connection cut half-way looks to the client.
  size_t cut_after = std::string::npos;
  // > 0: the body goes out one byte at a time, this many milliseconds apart (the headers at
  // once), as a registry that drips its answer, never quite stalling, looks to the client.
  // The drip ends when the client hangs up or the server stops.
  int drip_ms = 0;
};

class FakeHttpServer {
 public:
  using Handler = std::function<FakeResponse(const FakeRequest&)>;

  explicit FakeHttpServer(Handler handler);
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  // Every HTTP request served so far, in order (not counting TLS probes, which are refused).
  std::vector<FakeRequest> requests() const;
  // How many served requests had a target starting with `prefix`.
  int CountRequests(const std::string& prefix) const;

 private:
  void Serve();
  void ServeConnection(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::vector<FakeRequest> requests_;
  std::thread thread_;
};

// A server that stays silent past a time limit kept on a FakeClock, so that a test sees the
// limit pass without waiting for it in real time. Stall(), called in a FakeHttpServer handler,
// moves the clock forward by `advance` and then blocks until Release() (or 10 s, should a test
// end early: the server's destructor waits for its handler).
class StallOnFakeClock {
 public:
  StallOnFakeClock(FakeClock& clock, std::chrono::nanoseconds advance)
      : clock_(clock), advance_(advance) {}

  void Stall();
  void Release();

 private:
  FakeClock& clock_;
  const std::chrono::nanoseconds advance_;
  std::mutex mu_;
  std::condition_variable released_cv_;
  bool released_ = false;
};

}  // namespace wharf::registry::testing
