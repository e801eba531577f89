#include "wharf/pull/event_bus.h"

#include <gtest/gtest.h>

#include <thread>

namespace wharf::pull {
namespace {

TEST(EventBusTest, DeliversInOrderWithIncreasingIds) {
  EventBus bus;
  auto sub = bus.Subscribe(-1);
  bus.Publish("job", "{\"a\":1}");
  bus.Publish("image", "{\"b\":2}");
  auto first = sub->Next(100);
  auto second = sub->Next(100);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->id, 1);
  EXPECT_EQ(first->type, "job");
  EXPECT_EQ(second->id, 2);
  EXPECT_EQ(second->data, "{\"b\":2}");
  EXPECT_FALSE(sub->Next(10));  // nothing more: times out
  EXPECT_FALSE(sub->dropped());
}

TEST(EventBusTest, ReplaysWhatAReconnectingClientMissedWithinTheWindow) {
  EventBus bus(/*window=*/3);
  for (int i = 0; i < 5; ++i) bus.Publish("job", std::to_string(i));
  auto sub = bus.Subscribe(/*last_event_id=*/3);
  auto e = sub->Next(10);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->id, 4);
  EXPECT_EQ(sub->Next(10)->id, 5);
  EXPECT_FALSE(sub->Next(10));
  // Older than the window: only what is kept (ids 3..5) is replayed.
  auto old = bus.Subscribe(0);
  EXPECT_EQ(old->Next(10)->id, 3);
}

TEST(EventBusTest, DropsASubscriberThatFallsBehindInsteadOfBuffering) {
  EventBus bus(/*window=*/16, /*subscriber_queue=*/4);
  auto slow = bus.Subscribe(-1);
  auto fast = bus.Subscribe(-1);
  for (int i = 0; i < 10; ++i) {
    bus.Publish("job", std::to_string(i));
    ASSERT_TRUE(fast->Next(10));
  }
  EXPECT_TRUE(slow->dropped());
  EXPECT_FALSE(slow->Next(10));
  EXPECT_FALSE(fast->dropped());
}

TEST(EventBusTest, CloseWakesWaiters) {
  EventBus bus;
  auto sub = bus.Subscribe(-1);
  std::thread t([&] { EXPECT_FALSE(sub->Next(10000)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  bus.Close();
  t.join();
  EXPECT_TRUE(bus.closed());
}

TEST(EventBusTest, WakerIsCalledForEventsDropsAndClose) {
  EventBus bus(/*window=*/8, /*subscriber_queue=*/2);
  auto sub = bus.Subscribe(-1);
  int wakes = 0;
  sub->SetWaker([&] { ++wakes; });
  bus.Publish("job", "{}");
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(sub->Next(0)->type, "job");  // a woken reader takes it without waiting
  EXPECT_FALSE(sub->Next(0));
  bus.Publish("job", "{}");
  bus.Publish("job", "{}");
  bus.Publish("job", "{}");  // over the queue: dropped, and told so
  EXPECT_EQ(wakes, 4);
  EXPECT_TRUE(sub->dropped());
  auto other = bus.Subscribe(-1);
  int other_wakes = 0;
  other->SetWaker([&] { ++other_wakes; });
  bus.Close();
  EXPECT_EQ(other_wakes, 1);
  EXPECT_FALSE(other->Next(0));
}

}  // namespace
}  // namespace wharf::pull
