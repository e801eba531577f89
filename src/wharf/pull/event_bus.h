// Live events for the events stream (GET /api/v1/events): job progress and images added or
// removed. Every event gets the next id; the last `window` events are kept so a client that
// reconnects with Last-Event-ID misses nothing inside that window. A subscriber has a bounded
// queue: one that falls that far behind is dropped (its Next() returns nullopt), never
// buffered without limit, so a stuck client cannot hold memory or block publishers.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace wharf::pull {

struct Event {
  int64_t id = 0;
  std::string type;  // "job" or "image"
  std::string data;  // JSON text
};

class EventBus {
 public:
  explicit EventBus(size_t window = 1024, size_t subscriber_queue = 512);

  // Assigns the id and delivers to every subscriber.
  void Publish(std::string type, std::string data);

  class Subscription {
   public:
    ~Subscription();
    // Waits up to `timeout_ms` for the next event. nullopt on timeout (check dropped() and
    // closed()), or when the subscription was dropped or the bus closed.
    std::optional<Event> Next(int timeout_ms);
    bool dropped() const;
    // `wake` is called (under the bus's lock: it must be quick and not call the bus) whenever
    // an event is queued for this subscriber, it is dropped, or the bus closes. For waiting
    // without a thread: call Next(0) when woken. Replaces an earlier waker.
    void SetWaker(std::function<void()> wake);

   private:
    friend class EventBus;
    EventBus* bus_ = nullptr;
    std::function<void()> wake_;
    std::deque<Event> queue_;
    bool dropped_ = false;
  };
  // Subscribes; events with id > last_event_id still in the window are queued first
  // (last_event_id < 0: only new events).
  std::shared_ptr<Subscription> Subscribe(int64_t last_event_id);
  // Wakes every subscriber; Next() returns nullopt from now on.
  void Close();
  bool closed() const;
  int64_t last_id() const;

 private:
  void Unsubscribe(Subscription* sub);

  const size_t window_;
  const size_t subscriber_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  int64_t next_id_ = 1;
  std::deque<Event> recent_;
  std::list<Subscription*> subscribers_;
};

}  // namespace wharf::pull
