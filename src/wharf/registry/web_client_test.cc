// The plain web client against a tiny loopback server: headers both ways, the total time
// limit and cancellation.
#include "wharf/registry/web_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "wharf/registry/test_registry.h"

namespace wharf::registry {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

TEST(WebClientTest, ConditionalGetSeesValidatorsAndNotModified) {
  FakeHttpServer server([](const FakeRequest& r) -> FakeResponse {
    if (r.Header("if-none-match") == "\"v1\"") return {304, {{"ETag", "\"v1\""}}, ""};
    return {200, {{"ETag", "\"v1\""}, {"Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"}}, "{}"};
  });
  WebClient web{Options{}};
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

TEST(WebClientTest, TotalTimeoutAndCancellation) {
  FakeHttpServer server([](const FakeRequest&) -> FakeResponse {
    std::this_thread::sleep_for(std::chrono::milliseconds(3500));
    return {200, {}, "late"};
  });
  WebClient web{Options{}};
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
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().code, Code::kCancelled) << cancelled.error().ToString();
}

}  // namespace
}  // namespace wharf::registry
