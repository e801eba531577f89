// Admits at most N requests at a time into work that only needs the CPU (local listings,
// inspect, download status), in the order they arrived.
//
// wharfd serves each connection on its own thread. With more busy connections than cores,
// the kernel shares the CPU among all of them in time slices, so a 0.1 ms request can wait
// several slices behind others: at 32 connections on 2 cores the 99th percentile was ten
// times the median. Behind the gate, the other requests sleep in a queue and each one runs
// to completion once admitted; their wait is the work queued ahead of them, no more.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

namespace wharf::api {

class RequestGate {
 public:
  explicit RequestGate(size_t slots);
  RequestGate(const RequestGate&) = delete;
  RequestGate& operator=(const RequestGate&) = delete;

  // Holds a slot for its lifetime; waits for one in arrival order.
  class Pass {
   public:
    explicit Pass(RequestGate& gate) : gate_(gate) { gate_.Enter(); }
    ~Pass() { gate_.Leave(); }
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;

   private:
    RequestGate& gate_;
  };

  size_t slots() const { return slots_; }
  // Requests waiting for a slot now.
  size_t waiting();

 private:
  struct Waiter {
    std::condition_variable cv;
    bool admitted = false;
  };
  void Enter();
  void Leave();

  const size_t slots_;
  std::mutex mu_;
  size_t busy_ = 0;
  std::deque<Waiter*> queue_;  // oldest first
};

}  // namespace wharf::api
