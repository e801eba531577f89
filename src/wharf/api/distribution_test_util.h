// Test-only: the Distribution API (distribution.h) over a real blob store and SQLite in a
// temporary directory (services_test_util.h), driven with HttpRequest values as the server
// fills them in, without a server; and what a client reads of the answers.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "wharf/api/distribution.h"
#include "wharf/api/http_message.h"
#include "wharf/base/clock.h"
#include "wharf/base/strings.h"
#include "wharf/serve/served_images.h"
#include "wharf/service/auth.h"
#include "wharf/service/exports_test_util.h"
#include "wharf/service/login_throttle.h"

namespace wharf::api {

constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
// Authorization header values of the test users (base64 of "user:password").
constexpr char kAlice[] = "Basic YWxpY2U6czNjcmV0";       // alice:s3cret
constexpr char kAliceWrong[] = "Basic YWxpY2U6d3Jvbmc=";  // alice:wrong
constexpr char kBob[] = "Basic Ym9iOmIwYi1wdw==";         // bob:b0b-pw
constexpr char kHost[] = "wharf.test:5000";               // the Host header sent

// A request as the server hands it over: target parsed, header names lower-cased, Host kHost
// unless `headers` has one.
inline HttpRequest DistRequest(const std::string& method, const std::string& target,
                               const Fields& headers = {}) {
  HttpRequest req;
  req.method = method;
  req.target = target;
  ParseTarget(target, req.path, req.params);
  for (const auto& [name, value] : headers) req.headers.push_back({Lower(name), value});
  if (!req.Header("host")) req.headers.push_back({"host", kHost});
  req.remote_addr = "127.0.0.1";
  return req;
}

// The first value of a header of the answer (any case), or "".
inline std::string HeaderOf(const HttpResponse& res, std::string_view name) {
  for (const auto& [n, value] : res.headers) {
    if (EqualsIgnoreCase(n, name)) return value;
  }
  return "";
}

// The bytes of the answer's body: its text, or the range of its file.
inline std::string BodyOf(const HttpResponse& res) {
  if (res.file) {
    std::string bytes(res.file->length, '\0');
    EXPECT_EQ(::pread(res.file->fd.get(), bytes.data(), bytes.size(),
                      static_cast<off_t>(res.file->offset)),
              static_cast<ssize_t>(bytes.size()));
    return bytes;
  }
  return res.body ? *res.body : "";
}

// The spec's error document: the code of its one error ("" when it is not one), with a check
// of its shape.
inline std::string ErrorCode(const HttpResponse& res) {
  auto doc = nlohmann::json::parse(BodyOf(res), nullptr, false);
  if (!doc.is_object() || !doc.contains("errors") || doc["errors"].size() != 1) return "";
  const auto& e = doc["errors"][0];
  EXPECT_TRUE(e["message"].is_string()) << doc.dump();
  EXPECT_TRUE(e.contains("detail") && e["detail"].is_null()) << doc.dump();
  return e.value("code", "");
}
inline std::string ErrorMessage(const HttpResponse& res) {
  auto doc = nlohmann::json::parse(BodyOf(res), nullptr, false);
  return doc.is_object() ? doc["errors"][0].value("message", "") : "";
}

// A deferred answer (a pull-through) waited for as the server waits for it: subscribed once,
// polled after each wake, and a last time when the wait is over.
class DeferredAnswer {
 public:
  // `deferred` null (the answer came at once, a failure of the test): every answer has status 0.
  explicit DeferredAnswer(std::shared_ptr<HttpDeferred> deferred)
      : deferred_(std::move(deferred)), wakes_(std::make_shared<WakeCount>()) {
    if (!deferred_) return;
    deferred_->Subscribe([wakes = wakes_] {
      std::lock_guard lock(wakes->mu);
      ++wakes->count;
      wakes->cv.notify_all();
    });
  }

  // The answer if it is ready now.
  std::optional<HttpResponse> Poll() {
    if (!deferred_) return HttpResponse{.status = 0};
    return deferred_->Poll(false);
  }
  // Polls after each wake until there is an answer; the last Poll when `limit` has passed
  // (bounded, so that a failure does not hang the test).
  HttpResponse Await(std::chrono::seconds limit = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (true) {
      int seen = wakes();
      if (auto answer = Poll()) return std::move(*answer);
      std::unique_lock lock(wakes_->mu);
      if (!wakes_->cv.wait_until(lock, deadline, [&] { return wakes_->count != seen; })) break;
    }
    return Last();
  }
  // The answer when the wait is over (Wait() passed, or the client left).
  HttpResponse Last() {
    if (!deferred_) return HttpResponse{.status = 0};
    return deferred_->Poll(true).value();
  }
  // How many times it was woken.
  int wakes() {
    std::lock_guard lock(wakes_->mu);
    return wakes_->count;
  }

 private:
  struct WakeCount {
    std::mutex mu;
    std::condition_variable cv;
    int count = 0;
  };
  std::shared_ptr<HttpDeferred> deferred_;
  std::shared_ptr<WakeCount> wakes_;
};

// The parts of a Distribution: stored images, users alice and bob (their passwords verified by
// a counting stand-in for argon2id, "plain:" + password), the login throttle and a fake clock.
class DistributionTest : public ::testing::Test {
 protected:
  DistributionTest() {
    EXPECT_TRUE(s_.users.PutUser({"alice", "plain:s3cret", false}));
    EXPECT_TRUE(s_.users.PutUser({"bob", "plain:b0b-pw", false}));
  }

  // Made on first use, with options_ and pull_through_ as they are then.
  Distribution& dist() {
    if (!dist_) dist_.emplace(options_, &served_, auth_, throttle_, clock_, pull_through_);
    return *dist_;
  }
  HttpResponse Get(const std::string& target, const Fields& headers = {{"authorization", kAlice}},
                   const std::string& method = "GET") {
    return dist().Answer(DistRequest(method, target, headers));
  }
  // The stored image's manifest bytes.
  std::string Stored(const std::string& digest) {
    return s_.store->Read(Digest::Parse(digest).value()).value();
  }
  int Verified() const { return verified_.load(); }

  service::NoFetcher no_fetcher_;  // pull-through tests add their own (the queue is not started)
  service::TestServices s_{no_fetcher_};
  serve::ServedImages served_{s_.local, *s_.store};
  FakeClock clock_;
  std::atomic<int> verified_{0};
  service::Auth auth_{s_.users, 3600,
                      [this](const std::string& hash, const std::string& password) {
                        ++verified_;
                        return hash == "plain:" + password;
                      },
                      clock_};
  service::LoginThrottle throttle_;
  DistributionOptions options_;
  PullThrough* pull_through_ = nullptr;
  std::optional<Distribution> dist_;
};

}  // namespace wharf::api
