#include "wharf/service/login_throttle.h"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>
#include <vector>

namespace wharf::service {
namespace {

TEST(LoginThrottleTest, BlocksAfterFreeFailuresWithGrowingDelay) {
  LoginThrottle t({.free_failures = 3,
                   .free_failures_per_address = 3,
                   .window_s = 60,
                   .base_delay_s = 2,
                   .max_delay_s = 10});
  int64_t now = 1000;
  EXPECT_EQ(t.Begin("admin", "1.2.3.4", now), 0);
  EXPECT_EQ(t.Begin("admin", "1.2.3.4", now), 0);
  EXPECT_EQ(t.Begin("admin", "1.2.3.4", now), 0);  // admitted; its failure starts the delay
  EXPECT_EQ(t.Begin("admin", "1.2.3.4", now), 2);
  EXPECT_EQ(t.Begin("admin", "9.9.9.9", now), 2);  // per user, from any address
  EXPECT_EQ(t.Begin("other", "1.2.3.4", now), 2);  // per address, for any user
  EXPECT_EQ(t.Begin("other", "9.9.9.9", now), 0);
  EXPECT_EQ(t.Begin("admin", "1.2.3.4", now + 1), 1);  // refusals were not counted
  EXPECT_EQ(t.Begin("admin", "1.2.3.4", now + 2), 0);
  EXPECT_EQ(t.Begin("admin", "1.2.3.4", now + 2), 4);  // doubles
  EXPECT_EQ(t.Begin("admin", "1.2.3.4", now + 6), 0);
  EXPECT_EQ(t.Begin("admin", "1.2.3.4", now + 6), 8);
  EXPECT_EQ(t.Begin("admin", "1.2.3.4", now + 14), 0);
  EXPECT_EQ(t.Begin("admin", "1.2.3.4", now + 14), 10);  // capped
}

TEST(LoginThrottleTest, ConcurrentAttemptsForOneUserAdmitExactlyTheFreeOnes) {
  for (int round = 0; round < 20; ++round) {
    LoginThrottle t;  // free_failures = 5
    constexpr int kThreads = 60;
    std::latch start(kThreads);
    std::atomic<int> admitted = 0;
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        // As the server does: Begin, then the slow hash, then nothing on a wrong password.
        if (t.Begin("admin", "10.0.0." + std::to_string(i), 1000) == 0) {
          ++admitted;
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      });
    }
    for (auto& th : threads) th.join();
    ASSERT_EQ(admitted.load(), 5) << "round " << round;
  }
}

TEST(LoginThrottleTest, SuccessClearsTheUserAndTakesBackItsAddressCount) {
  LoginThrottle t({.free_failures = 2,
                   .free_failures_per_address = 3,
                   .window_s = 60,
                   .base_delay_s = 5,
                   .max_delay_s = 60});
  EXPECT_EQ(t.Begin("admin", "a", 0), 0);
  EXPECT_EQ(t.Begin("admin", "b", 0), 0);  // the user's second failure blocks it...
  t.Success("admin", "b");                 // ...unless the password was right
  EXPECT_EQ(t.Begin("admin", "c", 0), 0);
  EXPECT_EQ(t.Begin("admin", "c", 0), 0);
  EXPECT_GT(t.Begin("admin", "c", 0), 0);

  EXPECT_EQ(t.Begin("u1", "shared", 0), 0);
  EXPECT_EQ(t.Begin("u2", "shared", 0), 0);
  EXPECT_EQ(t.Begin("alice", "shared", 0), 0);  // the address's third: blocks it for now
  t.Success("alice", "shared");                 // alice got in: back to two, not blocking
  EXPECT_EQ(t.Begin("bob", "shared", 0), 0);
  EXPECT_EQ(t.Begin("carol", "shared", 0), 5);  // bob's failure counts
}

TEST(LoginThrottleTest, OldFailuresExpire) {
  LoginThrottle t({.free_failures = 2,
                   .free_failures_per_address = 9,
                   .window_s = 60,
                   .base_delay_s = 5,
                   .max_delay_s = 60});
  EXPECT_EQ(t.Begin("bob", "d", 0), 0);
  EXPECT_EQ(t.Begin("bob", "d", 100), 0);  // outside the window: counts as the first again
  EXPECT_EQ(t.Begin("bob", "e", 100), 0);
  EXPECT_EQ(t.Begin("bob", "e", 100), 5);
}

TEST(LoginThrottleTest, AnAddressGetsMoreTriesThanAUser) {
  LoginThrottle t({.free_failures = 2,
                   .free_failures_per_address = 4,
                   .window_s = 60,
                   .base_delay_s = 5,
                   .max_delay_s = 60});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(t.Begin("user" + std::to_string(i), "addr", 0), 0);
  EXPECT_EQ(t.Begin("admin", "addr", 0), 0);  // the address's fourth
  EXPECT_EQ(t.Begin("admin", "addr", 0), 5);
}

TEST(LoginThrottleTest, ForgetsTheOldestKeyThatIsNotBlocking) {
  LoginThrottle t({.free_failures = 2,
                   .free_failures_per_address = 100,
                   .window_s = 60,
                   .base_delay_s = 100,
                   .max_delay_s = 1000,
                   .max_keys = 5});
  EXPECT_EQ(t.Begin("admin", "x", 0), 0);
  EXPECT_EQ(t.Begin("admin", "x", 0), 0);  // u:admin blocks, the oldest key
  EXPECT_EQ(t.Begin("old", "x", 1), 0);
  EXPECT_EQ(t.Begin("mid", "x", 2), 0);
  EXPECT_EQ(t.Begin("new", "x", 3), 0);    // five keys: u:admin a:x u:old u:mid u:new
  EXPECT_EQ(t.Begin("extra", "x", 4), 0);  // forgets u:old, not the older u:admin
  EXPECT_GT(t.Begin("admin", "x", 5), 0);
  EXPECT_EQ(t.Begin("mid", "x", 5), 0);  // u:mid was kept: its second failure blocks it
  EXPECT_GT(t.Begin("mid", "x", 5), 0);
  // u:old was forgotten: this is its first failure again (and forgets u:new).
  EXPECT_EQ(t.Begin("old", "x", 6), 0);
  EXPECT_EQ(t.Begin("old", "x", 6), 0);
  EXPECT_GT(t.Begin("old", "x", 6), 0);
}

TEST(LoginThrottleTest, ForgetsTheKeyFurthestFromBlockingFirst) {
  LoginThrottle t({.free_failures = 3,
                   .free_failures_per_address = 100,
                   .window_s = 60,
                   .base_delay_s = 100,
                   .max_delay_s = 1000,
                   .max_keys = 4});
  EXPECT_EQ(t.Begin("target", "x", 0), 0);
  EXPECT_EQ(t.Begin("target", "x", 0), 0);  // one failure left
  EXPECT_EQ(t.Begin("j1", "x", 1), 0);
  EXPECT_EQ(t.Begin("j2", "x", 2), 0);
  EXPECT_EQ(t.Begin("j3", "x", 3), 0);      // forgets u:j1, not the older u:target
  EXPECT_EQ(t.Begin("target", "x", 4), 0);  // its third failure: blocks
  EXPECT_GT(t.Begin("target", "x", 4), 0);
}

TEST(LoginThrottleTest, RefusesNewKeysRatherThanForgetABlockingOne) {
  LoginThrottle t({.free_failures = 1,
                   .free_failures_per_address = 1,
                   .window_s = 60,
                   .base_delay_s = 10,
                   .max_delay_s = 60,
                   .max_keys = 4});
  EXPECT_EQ(t.Begin("u1", "a1", 0), 0);
  EXPECT_EQ(t.Begin("u2", "a2", 0), 0);  // four keys, all blocking until 10
  EXPECT_EQ(t.Begin("u3", "a3", 1), 9);  // no room: refused until the first block ends
  EXPECT_EQ(t.Begin("u1", "a1", 1), 9);  // the blocks hold
  EXPECT_EQ(t.Begin("u2", "a2", 1), 9);
  EXPECT_EQ(t.Begin("u3", "a3", 10), 0);  // blocks over: their keys may go
}

TEST(LoginThrottleTest, AFloodOfJunkNamesDoesNotLiftABlock) {
  // The case: a blocked user, then 10,000 failed logins with junk names from 500
  // addresses, with the default table of 10,000 keys.
  LoginThrottle t;
  int64_t now = 1000;
  for (int i = 0; i < 5; ++i) ASSERT_EQ(t.Begin("admin", "10.0.0.1", now), 0);
  ASSERT_GT(t.Begin("admin", "10.0.0.2", now), 0);
  int admitted = 0;
  for (int i = 0; i < 10000; ++i) {
    if (t.Begin("junk" + std::to_string(i), "192.0.2." + std::to_string(i % 500), now) == 0) {
      ++admitted;
    }
  }
  EXPECT_EQ(admitted, 10000);  // 20 per address
  EXPECT_GT(t.Begin("admin", "10.0.0.3", now), 0);
  EXPECT_GT(t.Begin("junk0", "192.0.2.0", now), 0);  // the addresses are blocked too
}

}  // namespace
}  // namespace wharf::service
