// Request bodies taken piece by piece (HttpBodySink), over real HTTP on loopback.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "wharf/api/http_server.h"
#include "wharf/api/test_http_server.h"

namespace wharf::api {
namespace {

constexpr uint64_t kMiB = 1 << 20;

// What a sink has seen.
struct Seen {
  uint64_t taken = 0;       // bytes
  size_t takes = 0;         // calls of Take
  size_t largest = 0;       // the largest piece
  bool in_order = true;     // every byte was BodyByte(its position)
  size_t after_answer = 0;  // calls of Take after it answered
  int abandons = 0;
  int handles = 0;  // requests handled after the body
};

// Checks every byte against BodyByte and answers 400 once `answer_after` bytes came.
class RecordingSink : public HttpBodySink {
 public:
  explicit RecordingSink(uint64_t limit,
                         uint64_t answer_after = std::numeric_limits<uint64_t>::max())
      : limit_(limit), answer_after_(answer_after) {}

  uint64_t Limit() const override { return limit_; }
  std::optional<HttpResponse> Take(std::string_view bytes) override {
    std::lock_guard lock(mu_);
    if (answered_) ++seen_.after_answer;
    for (char c : bytes) seen_.in_order = seen_.in_order && c == BodyByte(seen_.taken++);
    ++seen_.takes;
    seen_.largest = std::max(seen_.largest, bytes.size());
    changed_.notify_all();
    if (seen_.taken < answer_after_) return std::nullopt;
    answered_ = true;
    if (fails_) throw std::runtime_error("the sink failed");
    HttpResponse answer;
    answer.status = 400;
    answer.SetBody("enough", "text/plain");
    return answer;
  }
  void Abandon() override { Count(seen_.abandons); }
  // Take() throws instead of answering.
  void Fail() { fails_ = true; }
  void Handled() { Count(seen_.handles); }

  Seen Now() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  // Waits (a minute at most, so that a failure does not hang) until `done` holds.
  Seen WaitFor(const std::function<bool(const Seen&)>& done) {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, std::chrono::minutes(1), [&] { return done(seen_); });
    return seen_;
  }
  Seen WaitForEnd() {
    return WaitFor([](const Seen& s) { return s.abandons > 0 || s.handles > 0; });
  }

 private:
  void Count(int& n) {
    std::lock_guard lock(mu_);
    ++n;
    changed_.notify_all();
  }

  const uint64_t limit_;
  const uint64_t answer_after_;
  std::mutex mu_;
  std::condition_variable changed_;
  Seen seen_;
  bool answered_ = false;
  std::atomic<bool> fails_ = false;
};

// POST /sink takes its body into `sink`; other requests are read whole.
class SinkHandler : public HttpHandler {
 public:
  std::shared_ptr<RecordingSink> sink;

  Lane LaneOf(const HttpRequest&) override { return Lane::kFast; }
  std::optional<HttpResponse> Admit(HttpRequest& request) override {
    if (request.path == "/sink") request.body_sink = sink;
    return std::nullopt;
  }
  HttpResponse Handle(HttpRequest& request) override {
    if (request.body_sink) sink->Handled();
    return Refusal(200, "handled, body " + std::to_string(request.body.size()));
  }
  HttpResponse Refusal(int status, const std::string& message) override {
    HttpResponse answer;
    answer.status = status;
    answer.SetBody(message, "text/plain");
    return answer;
  }
};

class HttpServerBodyTest : public ::testing::TestWithParam<bool> {
 protected:
  // A server whose /sink takes at most `limit` bytes (answering 400 after `answer_after`).
  TestServer& Serve(uint64_t limit, uint64_t answer_after = std::numeric_limits<uint64_t>::max(),
                    HttpServerOptions options = {}) {
    handler_.sink = std::make_shared<RecordingSink>(limit, answer_after);
    server_.emplace(handler_, options, GetParam());
    return *server_;
  }
  RecordingSink& sink() { return *handler_.sink; }
  // Once the sink was abandoned and the server stopped (so that nothing is pending): that it
  // was abandoned once, and the request not handled.
  Seen ExpectAbandonedOnce() {
    EXPECT_EQ(sink().WaitForEnd().abandons, 1);
    server_->Stop();
    Seen seen = sink().Now();
    EXPECT_EQ(seen.abandons, 1);
    EXPECT_EQ(seen.handles, 0);
    return seen;
  }

  SinkHandler handler_;
  std::optional<TestServer> server_;
};

std::string Chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + std::string(data) + "\r\n";
}

// Sends `total` bytes of BodyByte from `client` in pieces of `piece` (as chunks when `chunked`),
// stopping at the first error.
void SendBody(TestClient& client, uint64_t total, uint64_t piece, bool chunked) {
  for (uint64_t at = 0; at < total; at += piece) {
    std::string bytes = BodyBytes(at, std::min(piece, total - at));
    if (client.Send(chunked ? Chunk(bytes) : bytes)) return;
  }
  if (chunked) client.Send("0\r\n\r\n");
}

// Reads an answer that closes the connection: `status` and `body`.
void ExpectClosingAnswer(TestClient& client, int status, std::string_view body) {
  auto answer = client.Read();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->result_int(), status);
  EXPECT_EQ(answer->body(), body);
  EXPECT_FALSE(answer->keep_alive());
}

TEST_P(HttpServerBodyTest, ContentLengthBodyArrivesInOrderAfterContinue) {
  const uint64_t size = 64 * kMiB;
  TestClient client(Serve(size));
  ASSERT_FALSE(client.Send(RequestHead(
      "POST", "/sink", {"Content-Length: " + std::to_string(size), "Expect: 100-continue"})));
  auto go_on = client.Read(true);
  ASSERT_TRUE(go_on);
  EXPECT_EQ(go_on->result_int(), 100);
  SendBody(client, size, kMiB, false);
  auto answer = client.Read();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->result_int(), 200);
  EXPECT_EQ(answer->body(), "handled, body 0");
  Seen seen = sink().Now();
  EXPECT_EQ(seen.taken, size);
  EXPECT_TRUE(seen.in_order);
  EXPECT_LE(seen.largest, kMiB);
  EXPECT_EQ(seen.handles, 1);
  // The connection is kept: a request with a body read whole follows.
  ASSERT_FALSE(client.Send(RequestHead("POST", "/other", {"Content-Length: 3"}) + "abc"));
  answer = client.Read();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->body(), "handled, body 3");
  server_->Stop();
  EXPECT_EQ(sink().Now().abandons, 0);
}

TEST_P(HttpServerBodyTest, ChunkedBodyArrivesInOrder) {
  TestClient client(Serve(64 * kMiB));
  ASSERT_FALSE(client.Send(RequestHead("POST", "/sink", {"Transfer-Encoding: chunked"})));
  uint64_t sent = 0;
  for (uint64_t piece :
       std::initializer_list<uint64_t>{1, 100, 70000, 3 * kMiB + 5, 17, 2 * kMiB}) {
    ASSERT_FALSE(client.Send(Chunk(BodyBytes(sent, piece))));
    sent += piece;
  }
  ASSERT_FALSE(client.Send("0\r\n\r\n"));
  auto answer = client.Read();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->result_int(), 200);
  server_->Stop();
  Seen seen = sink().Now();
  EXPECT_EQ(seen.taken, sent);
  EXPECT_TRUE(seen.in_order);
  EXPECT_LE(seen.largest, kMiB);
  EXPECT_EQ(seen.handles, 1);
  EXPECT_EQ(seen.abandons, 0);
}

TEST_P(HttpServerBodyTest, DeclaredOverTheLimitIsRefusedBeforeContinue) {
  TestClient client(Serve(kMiB));
  ASSERT_FALSE(client.Send(RequestHead(
      "POST", "/sink", {"Content-Length: " + std::to_string(kMiB + 1), "Expect: 100-continue"})));
  // The first answer, without a 100 Continue before it; no body was sent.
  ExpectClosingAnswer(client, 413, "request body too large (at most 1048576 bytes)");
  EXPECT_EQ(ExpectAbandonedOnce().takes, 0u);
}

TEST_P(HttpServerBodyTest, DeclaredAtTheLimitIsTaken) {
  TestClient client(Serve(kMiB));
  ASSERT_FALSE(client.Send(RequestHead("POST", "/sink", {"Content-Length: 1048576"})));
  SendBody(client, kMiB, 4096, false);
  auto answer = client.Read();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->result_int(), 200);
  server_->Stop();
  EXPECT_EQ(sink().Now().taken, kMiB);
  EXPECT_EQ(sink().Now().abandons, 0);
}

TEST_P(HttpServerBodyTest, ServerStoppingMidBodyAbandons) {
  TestClient client(Serve(64 * kMiB));
  ASSERT_FALSE(client.Send(RequestHead("POST", "/sink", {"Content-Length: 10485760"})));
  SendBody(client, 2 * kMiB, 64 << 10, false);
  sink().WaitFor([](const Seen& s) { return s.taken >= kMiB; });
  server_->Stop();
  Seen seen = sink().Now();
  EXPECT_GE(seen.taken, kMiB);
  EXPECT_EQ(seen.abandons, 1);
  EXPECT_EQ(seen.handles, 0);
}

INSTANTIATE_TEST_SUITE_P(PlainAndTls, HttpServerBodyTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Tls" : "Plain"; });

// What the cases below show does not depend on TLS: plain TCP only.
class HttpServerBodyPlainTest : public HttpServerBodyTest {};

// A refused client that sends on and on may see its connection reset before it reads the
// answer; the clients below stop sending a little past where the server stops reading.
TEST_P(HttpServerBodyPlainTest, ChunkedOverTheLimitIsRefusedAfterAbandon) {
  TestClient client(Serve(kMiB));
  ASSERT_FALSE(client.Send(RequestHead("POST", "/sink", {"Transfer-Encoding: chunked"})));
  SendBody(client, kMiB + kMiB / 2, 64 << 10, true);
  ExpectClosingAnswer(client, 413, "request body too large (at most 1048576 bytes)");
  Seen seen = ExpectAbandonedOnce();
  EXPECT_LE(seen.taken, kMiB);
  EXPECT_TRUE(seen.in_order);
}

TEST_P(HttpServerBodyPlainTest, SinkAnswerStopsTheReading) {
  TestClient client(Serve(64 * kMiB, /*answer_after=*/2 * kMiB));
  ASSERT_FALSE(client.Send(RequestHead("POST", "/sink", {"Content-Length: 16777216"})));
  SendBody(client, 2 * kMiB + kMiB / 2, 64 << 10, false);
  ExpectClosingAnswer(client, 400, "enough");
  EXPECT_TRUE(client.ReadsEnd());
  server_->Stop();
  Seen seen = sink().Now();
  EXPECT_GE(seen.taken, 2 * kMiB);
  EXPECT_EQ(seen.after_answer, 0u);
  EXPECT_EQ(seen.handles, 0);
  EXPECT_EQ(seen.abandons, 0);
}

TEST_P(HttpServerBodyPlainTest, SinkThatThrowsIsAbandonedAnd500) {
  TestClient client(Serve(64 * kMiB, /*answer_after=*/kMiB));
  sink().Fail();
  ASSERT_FALSE(client.Send(RequestHead("POST", "/sink", {"Content-Length: 4194304"})));
  SendBody(client, kMiB + kMiB / 2, 64 << 10, false);
  ExpectClosingAnswer(client, 500, "internal error: the sink failed");
  EXPECT_EQ(ExpectAbandonedOnce().after_answer, 0u);
}

TEST_P(HttpServerBodyPlainTest, ClientClosingMidBodyAbandons) {
  TestClient client(Serve(64 * kMiB));
  ASSERT_FALSE(client.Send(RequestHead("POST", "/sink", {"Content-Length: 10485760"})));
  SendBody(client, 3 * kMiB, 64 << 10, false);
  client.Close();
  EXPECT_TRUE(ExpectAbandonedOnce().in_order);
}

TEST_P(HttpServerBodyPlainTest, MalformedChunkAbandons) {
  TestClient client(Serve(64 * kMiB));
  ASSERT_FALSE(client.Send(RequestHead("POST", "/sink", {"Transfer-Encoding: chunked"}) +
                           Chunk(BodyBytes(0, 1000)) + "zz\r\nnot a chunk\r\n"));
  EXPECT_TRUE(client.ReadsEnd());
  ExpectAbandonedOnce();
}

TEST_P(HttpServerBodyPlainTest, TrickleIsCutByTheBodyDeadline) {
  HttpServerOptions options;
  options.body_timeout_s = 1;
  TestClient client(Serve(64 * kMiB, std::numeric_limits<uint64_t>::max(), options));
  ASSERT_FALSE(client.Send(RequestHead("POST", "/sink", {"Content-Length: 1048576"})));
  // A byte every 20 ms until the server gives up on it (or a minute, for a failure).
  for (uint64_t at = 0; at < 3000 && sink().Now().abandons == 0; ++at) {
    if (client.Send(BodyBytes(at, 1))) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_LT(ExpectAbandonedOnce().taken, kMiB);
}

INSTANTIATE_TEST_SUITE_P(Plain, HttpServerBodyPlainTest, ::testing::Values(false),
                         [](const auto&) { return "Plain"; });

}  // namespace
}  // namespace wharf::api
