// HttpPoster against small fake servers: the body and its type as sent, retries of transient
// answers and failures on a fake clock, answers that are not retried, the total time limit.
#include "wharf/registry/http_poster.h"

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

struct PosterTest : ::testing::Test {
  HttpPostRequest To(const FakeHttpServer& server, const std::string& body = R"({"a":1})") {
    return HttpPostRequest{.url = "http://" + server.host() + "/hook", .body = body};
  }
  FakeClock clock;
  HttpPoster poster{Options{.backoff_ms = 100, .max_backoff_ms = 400, .clock = &clock}};
};

TEST_F(PosterTest, PostsTheBodyWithItsType) {
  const std::string body(100000, 'x');  // more than libcurl sends with its first packet
  FakeHttpServer server([](const FakeRequest&) { return FakeResponse{204, {}, ""}; });
  auto posted = poster.Post(To(server, body));
  ASSERT_TRUE(posted) << posted.error().ToString();
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const FakeRequest& got = requests[0];
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/hook");
  EXPECT_EQ(got.Header("content-type"), "application/json");
  EXPECT_EQ(got.Header("expect"), "");
  EXPECT_EQ(got.body, body);
  EXPECT_EQ(clock.slept(), std::chrono::nanoseconds(0));
}

TEST_F(PosterTest, ATransientAnswerIsSentAgain) {
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const FakeRequest&) {
    if (++calls == 1) return FakeResponse{429, {{"Retry-After", "2"}}, ""};
    if (calls == 2) return FakeResponse{503, {}, "busy"};
    return FakeResponse{200, {}, "a body nobody reads"};
  });
  auto posted = poster.Post(To(server));
  ASSERT_TRUE(posted) << posted.error().ToString();
  EXPECT_EQ(calls, 3);
  EXPECT_GE(clock.slept(), std::chrono::seconds(2));  // the Retry-After, then a backoff
  for (const auto& request : server.requests()) EXPECT_EQ(request.body, R"({"a":1})");
}

TEST_F(PosterTest, TheLastFailureIsReturnedAfterTheTries) {
  FakeHttpServer server([](const FakeRequest&) {
    return FakeResponse{503, {{"Content-Type", "text/plain"}}, "it broke"};
  });
  auto posted = poster.Post(To(server));
  ASSERT_FALSE(posted);
  EXPECT_EQ(posted.error().code, Code::kUnavailable);
  EXPECT_EQ(posted.error().message,
            "POST http://" + server.host() + "/hook: 503 Service Unavailable: it broke");
  EXPECT_EQ(server.requests().size(), 3u);

  const int port = testing::FreeLoopbackPort();
  auto refused = poster.Post({.url = "http://127.0.0.1:" + std::to_string(port) + "/hook"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kUnavailable);
  EXPECT_NE(refused.error().message.find("connection refused"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("tried 3 times"), std::string::npos)
      << refused.error().message;
}

TEST_F(PosterTest, AnswersThatCannotChangeAreNotSentAgain) {
  for (int status : {404, 400, 302}) {
    SCOPED_TRACE(status);
    FakeHttpServer server([&](const FakeRequest&) {
      return FakeResponse{status, {{"Location", "/elsewhere"}}, ""};
    });
    auto posted = poster.Post(To(server));
    ASSERT_FALSE(posted);
    EXPECT_EQ(posted.error().code, status == 404 ? Code::kNotFound : Code::kUnavailable);
    EXPECT_EQ(server.requests().size(), 1u);
  }
  auto ftp = poster.Post({.url = "ftp://127.0.0.1/hook"});
  ASSERT_FALSE(ftp);
  EXPECT_EQ(ftp.error().code, Code::kInvalidArgument);
}

TEST_F(PosterTest, ASilentServerIsGivenUpOnAtTheTotalTimeout) {
  testing::StallOnFakeClock stall(clock, std::chrono::seconds(31));
  FakeHttpServer server([&](const FakeRequest&) {
    stall.Stall();
    return FakeResponse{200, {}, ""};
  });
  auto posted = poster.Post(To(server));
  stall.Release();
  ASSERT_FALSE(posted);
  EXPECT_EQ(posted.error().code, Code::kUnavailable);
  EXPECT_EQ(posted.error().message,
            "POST http://" + server.host() + "/hook: no answer within 30 s");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(PosterTest, ACallerCanStopIt) {
  FakeHttpServer server([](const FakeRequest&) { return FakeResponse{503, {}, ""}; });
  HttpPostRequest request = To(server);
  request.cancelled = [&] { return server.requests().size() >= 1; };
  auto posted = poster.Post(request);
  ASSERT_FALSE(posted);
  EXPECT_EQ(posted.error().code, Code::kCancelled) << posted.error().ToString();
}

}  // namespace
}  // namespace wharf::registry
