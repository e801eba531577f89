#include "wharf/content/write_behind.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

namespace wharf::content {
namespace {

using namespace std::chrono_literals;

TEST(WriteBehindTest, StartReturnsWhileTheJobRuns) {
  WriteBehind writer;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> finished{false};
  std::thread::id job_thread;
  writer.Start([&] {
    job_thread = std::this_thread::get_id();
    released.wait();
    finished = true;
    return 0;
  });
  EXPECT_FALSE(finished);  // the job is blocked until released, yet Start has returned
  release.set_value();
  EXPECT_EQ(writer.Wait(), 0);
  EXPECT_TRUE(finished);
  EXPECT_NE(job_thread, std::this_thread::get_id());
}

TEST(WriteBehindTest, JobsRunOneAtATimeInOrder) {
  WriteBehind writer;
  std::vector<int> order;  // written by the jobs only; Start waits for the previous one
  for (int i = 0; i < 50; ++i) {
    writer.Start([&order, i] {
      order.push_back(i);
      return 0;
    });
  }
  EXPECT_EQ(writer.Wait(), 0);
  ASSERT_EQ(order.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(order[i], i);
}

TEST(WriteBehindTest, WaitReportsTheFirstFailureOnce) {
  WriteBehind writer;
  EXPECT_EQ(writer.Wait(), 0);      // nothing started
  writer.Start([] { return 28; });  // ENOSPC
  writer.Start([] { return 5; });   // a later failure does not replace it
  writer.Start([] { return 0; });
  EXPECT_EQ(writer.Wait(), 28);
  EXPECT_EQ(writer.Wait(), 0);  // reported once
}

TEST(WriteBehindTest, DestructionWaitsForTheJobInFlight) {
  std::atomic<bool> finished{false};
  {
    WriteBehind writer;
    writer.Start([&] {
      std::this_thread::sleep_for(50ms);
      finished = true;
      return 0;
    });
  }
  EXPECT_TRUE(finished);
}

}  // namespace
}  // namespace wharf::content
