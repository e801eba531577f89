// The HttpGetter against a tiny loopback server: headers both ways, the total time
// limit and cancellation, retries and the continuation of a cut body.
#include "wharf/registry/http_getter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>

#include "wharf/base/clock.h"
#include "wharf/registry/test_registry.h"

namespace wharf::registry {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

TEST(HttpGetterTest, ConditionalGetSeesValidatorsAndNotModified) {
  FakeHttpServer server([](const FakeRequest& r) -> FakeResponse {
    if (r.Header("if-none-match") == "\"v1\"") return {304, {{"ETag", "\"v1\""}}, ""};
    return {200, {{"ETag", "\"v1\""}, {"Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"}}, "{}"};
  });
  HttpGetter web{Options{}};
  auto first = web.Get({.url = "http://" + server.host() + "/c.json"});
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "{}");
  EXPECT_EQ(first->headers["etag"], "\"v1\"");
  EXPECT_EQ(first->headers["last-modified"], "Mon, 01 Jan 2024 00:00:00 GMT");
  auto second =
      web.Get({.url = "http://" + server.host() + "/c.json", .headers = {"If-None-Match: \"v1\""}});
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(second->status, 304);
}

// The time limit runs on the client's clock: the server lets 2 s of fake time pass in silence.
TEST(HttpGetterTest, TotalTimeoutAndCancellation) {
  FakeClock clock;
  testing::StallOnFakeClock stall(clock, std::chrono::seconds(2));
  FakeHttpServer server([&](const FakeRequest&) -> FakeResponse {
    stall.Stall();
    return {200, {}, "late"};
  });
  HttpGetter web{Options{.clock = &clock}};
  auto start = std::chrono::steady_clock::now();
  auto slow = web.Get({.url = "http://" + server.host() + "/", .total_timeout_s = 1});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(3000));
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().code, Code::kUnavailable);
  EXPECT_NE(slow.error().message.find("no complete answer within 1 s"), std::string::npos)
      << slow.error().message;
  EXPECT_NE(slow.error().message.find(server.host()), std::string::npos) << slow.error().message;

  start = std::chrono::steady_clock::now();
  auto cancelled =
      web.Get({.url = "http://" + server.host() + "/", .cancelled = [&] {
                 return std::chrono::steady_clock::now() - start > std::chrono::milliseconds(200);
               }});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(3000));
  stall.Release();
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().code, Code::kCancelled) << cancelled.error().ToString();
}

// Retries whose waits take no time.
Options QuickRetries() {
  static FakeClock clock;
  Options options;
  options.backoff_ms = 10;
  options.max_backoff_ms = 20;
  options.clock = &clock;
  return options;
}

TEST(HttpGetterTest, TransientStatusesAreTriedAgainWhenAsked) {
  std::atomic<int> served{0};
  FakeHttpServer server([&](const FakeRequest&) -> FakeResponse {
    if (++served <= 2) return {503, {{"Retry-After", "0"}}, "busy"};
    return {200, {}, "index"};
  });
  HttpGetter web{QuickRetries()};
  auto once = web.Get({.url = "http://" + server.host() + "/i"});
  ASSERT_TRUE(once) << once.error().ToString();
  EXPECT_EQ(once->status, 503);  // one try: the answer is the caller's to judge
  served = 0;
  auto tried = web.Get({.url = "http://" + server.host() + "/i", .request_tries = 3});
  ASSERT_TRUE(tried) << tried.error().ToString();
  EXPECT_EQ(tried->status, 200);
  EXPECT_EQ(tried->body, "index");
  EXPECT_EQ(served.load(), 3);
}

TEST(HttpGetterTest, NotFoundIsAnAnswerNotRetried) {
  FakeHttpServer server([](const FakeRequest&) -> FakeResponse { return {404, {}, "no"}; });
  HttpGetter web{QuickRetries()};
  auto got = web.Get({.url = "http://" + server.host() + "/gone", .request_tries = 3});
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->status, 404);
  EXPECT_EQ(server.CountRequests("/gone"), 1);
  Status error = AnswerError(*got, "GET /gone");
  EXPECT_EQ(error.code, Code::kNotFound);
  EXPECT_EQ(error.message, "GET /gone: 404 Not Found");
}

TEST(HttpGetterTest, ACutBodyGoesOnWithARangeFromWhatTheSinkTook) {
  std::string body(1000, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  FakeHttpServer server([&](const FakeRequest& r) -> FakeResponse {
    std::string range = r.Header("range");
    if (range.empty()) return {200, {}, body, 400};  // hangs up after 400 bytes
    if (range != "bytes=400-") return {400, {}, "unexpected range " + range};
    return {206, {{"Content-Range", "bytes 400-999/1000"}}, body.substr(400)};
  });
  HttpGetter web{QuickRetries()};
  std::string got;
  auto response = web.Stream({.url = "http://" + server.host() + "/rootfs", .request_tries = 3},
                             [&](const char* data, size_t n) -> Result<void> {
                               got.append(data, n);
                               return {};
                             });
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 206);
  EXPECT_EQ(response->streamed, 1000);
  EXPECT_EQ(got, body);  // every byte once, in order
  EXPECT_EQ(server.CountRequests("/rootfs"), 2);
}

// A 416 to a Range says "start over", whatever its body: this one declares 1000 bytes and
// hangs up after 33, as docker-registry's does.
TEST(HttpGetterTest, A416ToARangeIsNotHonouredEvenWithACutBody) {
  FakeHttpServer server([&](const FakeRequest&) -> FakeResponse {
    return {416, {{"Content-Range", "bytes */1000"}}, std::string(1000, 'x'), 33};
  });
  HttpGetter web{QuickRetries()};
  size_t delivered = 0;
  auto response =
      web.Stream({.url = "http://" + server.host() + "/rootfs", .offset = 1000, .request_tries = 3},
                 [&](const char*, size_t n) -> Result<void> {
                   delivered += n;
                   return {};
                 });
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 416);
  EXPECT_FALSE(response->range_honoured);
  EXPECT_EQ(delivered, 0u);
  EXPECT_EQ(server.CountRequests("/rootfs"), 1);
}

}  // namespace
}  // namespace wharf::registry
