#include "wharf/api/request_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace wharf::api {
namespace {

using namespace std::chrono_literals;

TEST(RequestGate, AtMostSlotsRequestsInside) {
  RequestGate gate(2);
  std::atomic<int> inside{0}, most{0}, done{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      RequestGate::Pass pass(gate);
      int now = ++inside;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(5ms);
      --inside;
      ++done;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(done.load(), 8);
  EXPECT_EQ(most.load(), 2);
  EXPECT_EQ(gate.waiting(), 0u);
}

TEST(RequestGate, AdmitsInArrivalOrder) {
  RequestGate gate(1);
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread> threads;
  {
    RequestGate::Pass held(gate);
    for (int i = 0; i < 5; ++i) {
      threads.emplace_back([&, i] {
        RequestGate::Pass pass(gate);
        std::lock_guard lock(mu);
        order.push_back(i);
      });
      // Queue them one by one, so that arrival order is known.
      for (int spins = 0; gate.waiting() < static_cast<size_t>(i + 1) && spins < 5000; ++spins) {
        std::this_thread::sleep_for(1ms);
      }
      ASSERT_EQ(gate.waiting(), static_cast<size_t>(i + 1));
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(RequestGate, ANewcomerDoesNotOvertakeTheQueue) {
  RequestGate gate(1);
  std::atomic<bool> waiter_in{false};
  std::thread waiter;
  {
    RequestGate::Pass held(gate);
    waiter = std::thread([&] {
      RequestGate::Pass pass(gate);
      waiter_in = true;
      std::this_thread::sleep_for(20ms);
    });
    while (gate.waiting() == 0) std::this_thread::sleep_for(1ms);
  }
  // The slot went to the waiter, not to this thread arriving after it.
  RequestGate::Pass late(gate);
  EXPECT_TRUE(waiter_in.load());
  waiter.join();
}

}  // namespace
}  // namespace wharf::api
