#include "wharf/base/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace wharf {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(SystemClockTest, TellsTheRealTime) {
  Clock& clock = Clock::Default();
  int64_t before =
      std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  int64_t now = clock.NowSeconds();
  EXPECT_GE(now, before);
  EXPECT_LE(now, before + 1);
  const auto steady = clock.SteadyNow();
  EXPECT_LE(steady, std::chrono::steady_clock::now());
  EXPECT_EQ(&Clock::Default(), &clock);
}

TEST(SystemClockTest, SleepsAndStopsWhenCancelled) {
  SystemClock clock;
  auto start = clock.SteadyNow();
  EXPECT_TRUE(clock.SleepFor(milliseconds(5), nullptr));
  EXPECT_GE(clock.SteadyNow() - start, milliseconds(5));

  // Cancelled from the start: returns at once, without waiting the hour.
  EXPECT_FALSE(clock.SleepFor(std::chrono::hours(1), [] { return true; }));
  // Cancelled while waiting: noticed within one poll.
  int asked = 0;
  start = clock.SteadyNow();
  EXPECT_FALSE(clock.SleepFor(std::chrono::hours(1), [&] { return ++asked > 1; }));
  EXPECT_LT(clock.SteadyNow() - start, seconds(5));
}

TEST(FakeClockTest, MovesOnlyWhenTold) {
  FakeClock clock;
  EXPECT_EQ(clock.NowSeconds(), FakeClock::kDefaultStart);
  const Clock::SteadyTime start = clock.SteadyNow();
  EXPECT_EQ(clock.SteadyNow(), start);

  clock.Advance(milliseconds(1500));
  EXPECT_EQ(clock.NowSeconds(), FakeClock::kDefaultStart + 1);  // whole seconds, rounded down
  EXPECT_EQ(clock.SteadyNow() - start, milliseconds(1500));
  clock.Advance(milliseconds(500));
  EXPECT_EQ(clock.NowSeconds(), FakeClock::kDefaultStart + 2);
  clock.Advance(seconds(-10));  // time does not go back
  EXPECT_EQ(clock.SteadyNow() - start, seconds(2));
}

TEST(FakeClockTest, SettingTheWallTimeLeavesSteadyTime) {
  FakeClock clock(100);
  EXPECT_EQ(clock.NowSeconds(), 100);
  const Clock::SteadyTime start = clock.SteadyNow();
  clock.SetNowSeconds(50);  // back, as an operator might
  EXPECT_EQ(clock.NowSeconds(), 50);
  clock.SetNowSeconds(4'000'000'000);  // past 2038
  EXPECT_EQ(clock.NowSeconds(), 4'000'000'000);
  EXPECT_EQ(clock.SteadyNow(), start);
}

TEST(FakeClockTest, SleepAdvancesWithoutBlocking) {
  FakeClock clock;
  const Clock::SteadyTime start = clock.SteadyNow();
  EXPECT_TRUE(clock.SleepFor(std::chrono::hours(2), nullptr));
  EXPECT_EQ(clock.SteadyNow() - start, std::chrono::hours(2));
  EXPECT_EQ(clock.NowSeconds(), FakeClock::kDefaultStart + 7200);
  EXPECT_TRUE(clock.SleepFor(milliseconds(250), [] { return false; }));
  EXPECT_EQ(clock.slept(), std::chrono::hours(2) + milliseconds(250));

  // A cancelled sleep neither advances nor counts; `cancelled` may read the clock.
  EXPECT_FALSE(clock.SleepFor(seconds(9), [&] { return clock.NowSeconds() > 0; }));
  EXPECT_EQ(clock.slept(), std::chrono::hours(2) + milliseconds(250));
  EXPECT_EQ(clock.NowSeconds(), FakeClock::kDefaultStart + 7200);
}

TEST(SystemClockTest, WaitsUntilADeadline) {
  SystemClock clock;
  const auto start = clock.SteadyNow();
  EXPECT_TRUE(clock.WaitUntil(start + milliseconds(5), nullptr));
  EXPECT_GE(clock.SteadyNow() - start, milliseconds(5));
  EXPECT_TRUE(clock.WaitUntil(start, nullptr));  // already past
  EXPECT_FALSE(clock.WaitUntil(start + std::chrono::hours(1), [] { return true; }));
}

TEST(FakeClockTest, WaitUntilBlocksUntilTheClockIsAdvancedPastItsDeadline) {
  FakeClock clock;
  const Clock::SteadyTime start = clock.SteadyNow();
  EXPECT_TRUE(clock.WaitUntil(start, nullptr));  // reached: returns at once
  std::atomic<int> woken{0};
  std::thread waiter([&] {
    for (int i = 1; i <= 2; ++i) {
      if (clock.WaitUntil(start + std::chrono::hours(i), nullptr)) ++woken;
    }
  });
  ASSERT_TRUE(clock.AwaitWaiters(1));
  clock.Advance(std::chrono::minutes(59));
  EXPECT_TRUE(clock.AwaitWaiters(1));  // still waiting for the first hour
  EXPECT_EQ(woken.load(), 0);
  clock.Advance(std::chrono::minutes(1));
  ASSERT_TRUE(clock.AwaitWaiters(1));  // woken once, and waiting for the second hour
  EXPECT_EQ(woken.load(), 1);
  clock.SleepFor(std::chrono::hours(1), nullptr);  // a sleep moves the clock too
  waiter.join();
  EXPECT_EQ(woken.load(), 2);
  EXPECT_FALSE(clock.AwaitWaiters(1, milliseconds(1)));
}

TEST(FakeClockTest, AWaitUntilEndsWhenCancelled) {
  FakeClock clock;
  std::atomic<bool> stop{false};
  std::atomic<bool> reached{true};
  std::thread waiter([&] {
    reached = clock.WaitUntil(clock.SteadyNow() + seconds(1), [&] { return stop.load(); });
  });
  ASSERT_TRUE(clock.AwaitWaiters(1));
  stop = true;
  waiter.join();
  EXPECT_FALSE(reached.load());
  EXPECT_FALSE(clock.AwaitWaiters(1, milliseconds(1)));
}

TEST(FakeClockTest, IsSafeAcrossThreads) {
  FakeClock clock(0);
  const Clock::SteadyTime start = clock.SteadyNow();
  std::atomic<bool> went_back{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      Clock::SteadyTime last = clock.SteadyNow();
      for (int i = 0; i < 1000; ++i) {
        if (i % 2 == 0) {
          clock.Advance(milliseconds(1));
        } else {
          clock.SleepFor(milliseconds(1), nullptr);
        }
        Clock::SteadyTime now = clock.SteadyNow();
        if (now < last) went_back = true;
        last = now;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(went_back);
  EXPECT_EQ(clock.SteadyNow() - start, seconds(4));
  EXPECT_EQ(clock.NowSeconds(), 4);
  EXPECT_EQ(clock.slept(), seconds(2));
}

}  // namespace
}  // namespace wharf
