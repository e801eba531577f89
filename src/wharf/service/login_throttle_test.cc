#include "wharf/service/login_throttle.h"

#include <gtest/gtest.h>

namespace wharf::service {
namespace {

TEST(LoginThrottleTest, BlocksAfterFreeFailuresWithGrowingDelay) {
  LoginThrottle t({.free_failures = 3, .free_failures_per_address = 3, .window_s = 60,
                   .base_delay_s = 2, .max_delay_s = 10});
  int64_t now = 1000;
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(t.Check("admin", "1.2.3.4", now), 0);
    t.Failure("admin", "1.2.3.4", now);
  }
  EXPECT_EQ(t.Check("admin", "1.2.3.4", now), 0);
  t.Failure("admin", "1.2.3.4", now);  // the third failure starts the delay
  EXPECT_EQ(t.Check("admin", "1.2.3.4", now), 2);
  EXPECT_EQ(t.Check("admin", "9.9.9.9", now), 2);  // per user, from any address
  EXPECT_EQ(t.Check("other", "1.2.3.4", now), 2);  // per address, for any user
  EXPECT_EQ(t.Check("other", "9.9.9.9", now), 0);
  EXPECT_EQ(t.Check("admin", "1.2.3.4", now + 2), 0);
  t.Failure("admin", "1.2.3.4", now + 2);
  EXPECT_EQ(t.Check("admin", "1.2.3.4", now + 2), 4);  // doubles
  for (int i = 0; i < 10; ++i) t.Failure("admin", "1.2.3.4", now + 2);
  EXPECT_EQ(t.Check("admin", "1.2.3.4", now + 2), 10);  // capped
}

TEST(LoginThrottleTest, SuccessClearsTheUserAndOldFailuresExpire) {
  LoginThrottle t({.free_failures = 2, .free_failures_per_address = 2, .window_s = 60,
                   .base_delay_s = 5, .max_delay_s = 60});
  t.Failure("admin", "a", 0);
  t.Success("admin");
  t.Failure("admin", "b", 1);
  EXPECT_EQ(t.Check("admin", "c", 1), 0);  // the count restarted after the success
  t.Failure("bob", "d", 0);
  t.Failure("bob", "d", 100);  // outside the window: counts as the first again
  EXPECT_EQ(t.Check("bob", "e", 100), 0);
}

TEST(LoginThrottleTest, RemembersABoundedNumberOfKeys) {
  LoginThrottle t({.free_failures = 1, .free_failures_per_address = 1, .window_s = 60,
                   .base_delay_s = 5, .max_delay_s = 60, .max_keys = 4});
  t.Failure("u0", "a0", 0);  // two keys: u:u0 and a:a0
  for (int i = 1; i <= 4; ++i) t.Failure("u" + std::to_string(i), "a" + std::to_string(i), i);
  EXPECT_EQ(t.Check("u0", "zz", 1), 0);  // the stalest keys were forgotten
  EXPECT_GT(t.Check("u4", "zz", 4), 0);
}

TEST(LoginThrottleTest, AnAddressGetsMoreTriesThanAUser) {
  LoginThrottle t({.free_failures = 2, .free_failures_per_address = 4, .window_s = 60,
                   .base_delay_s = 5, .max_delay_s = 60});
  for (int i = 0; i < 3; ++i) t.Failure("user" + std::to_string(i), "addr", 0);
  EXPECT_EQ(t.Check("admin", "addr", 0), 0);  // 3 < 4 failures from the address
  t.Failure("user9", "addr", 0);
  EXPECT_EQ(t.Check("admin", "addr", 0), 5);
}

}  // namespace
}  // namespace wharf::service
