#include "wharf/cli/backoff.h"

#include <gtest/gtest.h>

namespace wharf::cli {
namespace {

TEST(BackoffTest, DoublesUpToTheCapThenGivesUpAfterMaxTries) {
  Backoff b({.first_s = 0.5, .max_delay_s = 3, .max_tries = 5, .max_s = 1000});
  EXPECT_FALSE(b.failing());
  const double want[] = {0.5, 1, 2, 3, 3};
  double now = 0;
  for (double w : want) {
    auto d = b.Failed(now);
    ASSERT_TRUE(d);
    EXPECT_DOUBLE_EQ(*d, w);
    now += *d;
  }
  EXPECT_TRUE(b.failing());
  EXPECT_EQ(b.tries(), 5);
  EXPECT_FALSE(b.Failed(now));
}

TEST(BackoffTest, GivesUpOnceMaxSecondsHavePassed) {
  Backoff b({.first_s = 1, .max_delay_s = 10, .max_tries = 100, .max_s = 5});
  EXPECT_EQ(b.Failed(100), 1.0);
  EXPECT_EQ(b.Failed(101), 2.0);
  EXPECT_EQ(b.Failed(103.5), 1.5);  // never sleeps past the limit
  EXPECT_FALSE(b.Failed(105));
}

TEST(BackoffTest, ASuccessStartsAfresh) {
  Backoff b({.first_s = 1, .max_delay_s = 10, .max_tries = 2, .max_s = 5});
  ASSERT_TRUE(b.Failed(0));
  ASSERT_TRUE(b.Failed(1));
  b.Succeeded();
  EXPECT_FALSE(b.failing());
  EXPECT_EQ(b.Failed(50), 1.0);  // the clock of the limit restarts too
  EXPECT_EQ(b.Failed(51), 2.0);
}

}  // namespace
}  // namespace wharf::cli
