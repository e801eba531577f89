// The retry policy without network: which failures are transient, Retry-After in both of its
// forms, the backoff's growth, cap and jitter bounds, and waits on a FakeClock.
#include "wharf/registry/retry.h"

#include <gtest/gtest.h>

#include "wharf/base/clock.h"

namespace wharf::registry {
namespace {

using std::chrono::seconds;

TEST(RetryTest, TransientStatuses) {
  for (long status : {408, 429, 500, 502, 503, 504})
    EXPECT_TRUE(IsTransientStatus(status)) << status;
  for (long status : {200, 206, 301, 400, 401, 403, 404, 405, 416, 501, 505}) {
    EXPECT_FALSE(IsTransientStatus(status)) << status;
  }
}

TEST(RetryTest, RetryAfterForms) {
  // Sun, 06 Nov 1994 08:49:37 GMT, the example of RFC 9110.
  const auto now = std::chrono::system_clock::from_time_t(784111777);
  struct Case {
    const char* value;
    std::optional<Millis> want;
  } cases[] = {
      {"120", Millis(120000)},
      {" 3 ", Millis(3000)},
      {"0", Millis(0)},
      {"Sun, 06 Nov 1994 08:49:47 GMT", Millis(10000)},  // IMF-fixdate, 10 s ahead
      {"Sunday, 06-Nov-94 08:49:42 GMT", Millis(5000)},  // RFC 850
      {"Sun Nov  6 08:49:39 1994", Millis(2000)},        // asctime
      {"Sun, 06 Nov 1994 08:00:00 GMT", Millis(0)},      // in the past
      {"", std::nullopt},
      {"soon", std::nullopt},
      {"-5", std::nullopt},
      {"1.5", std::nullopt},
  };
  for (const Case& c : cases) EXPECT_EQ(ParseRetryAfter(c.value, now), c.want) << c.value;
  // Absurdly large numbers are clamped rather than overflowing.
  auto huge = ParseRetryAfter("99999999999999999999999", now);
  ASSERT_TRUE(huge);
  EXPECT_EQ(*huge, Millis(seconds(24 * 3600)));
}

TEST(RetryTest, AdviceForResponsesAndFailures) {
  HttpResponse busy;
  busy.status = 429;
  busy.headers.Add("retry-after", "7");
  RetryAdvice advice = AdviceForResponse(busy);
  EXPECT_TRUE(advice.transient);
  EXPECT_EQ(advice.retry_after, Millis(7000));

  HttpResponse missing;
  missing.status = 404;
  EXPECT_FALSE(AdviceForResponse(missing).transient);

  Status refused{Code::kUnavailable, "registry x: connection refused"};
  EXPECT_TRUE(AdviceForFailure(refused, TransportFailure::kOther).transient);
  EXPECT_TRUE(AdviceForFailure(refused, TransportFailure::kTlsHandshake).transient);
  EXPECT_FALSE(AdviceForFailure(refused, TransportFailure::kTlsCertificate).transient);
  EXPECT_FALSE(AdviceForFailure({Code::kTooLarge, "big"}, TransportFailure::kNone).transient);
  EXPECT_FALSE(AdviceForFailure({Code::kCancelled, "stop"}, TransportFailure::kNone).transient);
  EXPECT_FALSE(AdviceForFailure({Code::kInternal, "disk"}, TransportFailure::kNone).transient);
}

TEST(RetryTest, BackoffDoublesWithJitterAndIsCapped) {
  Options options;
  options.backoff_ms = 100;
  options.max_backoff_ms = 400;
  options.max_retry_after_s = 2;
  RetryPolicy policy(options);
  for (int i = 0; i < 50; ++i) {
    // Equal jitter: between half the backoff and all of it.
    Millis first = policy.Delay(1, std::nullopt);
    EXPECT_GE(first, Millis(50));
    EXPECT_LE(first, Millis(100));
    Millis second = policy.Delay(2, std::nullopt);
    EXPECT_GE(second, Millis(100));
    EXPECT_LE(second, Millis(200));
    Millis late = policy.Delay(30, std::nullopt);  // capped, no overflow
    EXPECT_GE(late, Millis(200));
    EXPECT_LE(late, Millis(400));
  }
  // Retry-After lengthens the wait, up to its cap; a short one does not shorten the backoff.
  EXPECT_EQ(policy.Delay(1, Millis(1500)), Millis(1500));
  EXPECT_EQ(policy.Delay(1, Millis(60000)), Millis(2000));
  EXPECT_GE(policy.Delay(3, Millis(0)), Millis(200));
}

TEST(RetryTest, WaitsAreTheClocksSleeps) {
  FakeClock clock;
  Options options;
  options.backoff_ms = 1000;
  options.max_backoff_ms = 4000;
  options.max_retry_after_s = 60;
  options.clock = &clock;
  RetryPolicy policy(options);
  int calls = 0;
  auto got = Retry(policy, 5, {}, [&](RetryAdvice& advice) -> Result<int> {
    advice.transient = ++calls < 3;
    return calls;
  });
  ASSERT_TRUE(got);
  EXPECT_EQ(calls, 3);
  // Two waits, of [0.5, 1] s and [1, 2] s, slept on the fake clock and not for real.
  EXPECT_GE(clock.slept(), Millis(1500));
  EXPECT_LE(clock.slept(), Millis(3000));

  // A Retry-After longer than the backoff is what the wait lasts.
  const auto before = clock.slept();
  calls = 0;
  got = Retry(policy, 2, {}, [&](RetryAdvice& advice) -> Result<int> {
    advice = AdviceForStatus(503, ++calls == 1 ? "30" : "");
    return calls;
  });
  EXPECT_EQ(clock.slept() - before, seconds(30));

  // A cancelled wait does not advance the clock.
  EXPECT_FALSE(policy.Sleep(Millis(5000), [] { return true; }));
  EXPECT_EQ(clock.slept() - before, seconds(30));
  EXPECT_TRUE(policy.Sleep(Millis(5000), [] { return false; }));
  EXPECT_EQ(clock.slept() - before, seconds(35));
}

TEST(RetryTest, RetryStopsOnSuccessPermanentFailureOrAttempts) {
  FakeClock clock;
  Options options;
  options.backoff_ms = 1;
  options.clock = &clock;
  RetryPolicy policy(options);
  int calls = 0;
  auto flaky = [&](RetryAdvice& advice) -> Result<int> {
    ++calls;
    if (calls < 3) {
      advice.transient = true;
      return Unavailable("busy");
    }
    return 42;
  };
  auto got = Retry(policy, 5, {}, flaky);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, 42);
  EXPECT_EQ(calls, 3);

  calls = 0;
  auto missing = Retry(policy, 5, {}, [&](RetryAdvice&) -> Result<int> {
    ++calls;
    return NotFound("nope");
  });
  EXPECT_FALSE(missing);
  EXPECT_EQ(calls, 1);

  calls = 0;
  auto down = Retry(policy, 4, {}, [&](RetryAdvice& advice) -> Result<int> {
    ++calls;
    advice.transient = true;
    return Unavailable("down");
  });
  ASSERT_FALSE(down);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(down.error().message, "down (tried 4 times)");

  auto stopped = Retry(
      policy, 4, [] { return true; },
      [&](RetryAdvice& advice) -> Result<int> {
        advice.transient = true;
        return Unavailable("down");
      });
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().code, Code::kCancelled);
  EXPECT_EQ(stopped.error().message, "down (stopped before trying again)");
  // A cancelled wait after a transient answer names the answer.
  auto stopped_answer = Retry(
      policy, 4, [] { return true; },
      [&](RetryAdvice& advice) -> Result<int> {
        advice = AdviceForStatus(503, "");
        return 503;
      });
  ASSERT_FALSE(stopped_answer);
  EXPECT_EQ(stopped_answer.error().message, "HTTP 503 (stopped before trying again)");

  // An answer returned for the caller to judge (the HttpGetter's 503) is tried again while
  // its advice says transient, and the last one is returned as it is.
  calls = 0;
  auto busy = Retry(policy, 5, {}, [&](RetryAdvice& advice) -> Result<int> {
    advice.transient = ++calls < 3;
    return 500 + calls;
  });
  ASSERT_TRUE(busy);
  EXPECT_EQ(*busy, 503);
  EXPECT_EQ(calls, 3);
  calls = 0;
  auto still_busy = Retry(policy, 2, {}, [&](RetryAdvice& advice) -> Result<int> {
    advice.transient = true;
    return ++calls;
  });
  ASSERT_TRUE(still_busy);
  EXPECT_EQ(*still_busy, 2);
}

}  // namespace
}  // namespace wharf::registry
