// The HTTP server's task queue with a connection cap. cpp-httplib hands every accepted
// connection to its task queue as a function that serves the connection and closes it; this
// queue holds at most `max_connections` of them, served by up to `threads` threads (the rest
// wait their turn, as in httplib's own pool). Connections beyond the cap are served by one
// overflow thread on which OverCapacity() is true: the server answers their request 503 at
// once and closes them, instead of letting them pile up. Thread-safe.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace wharf::api {

class ConnectionPool : public httplib::TaskQueue {
 public:
  ConnectionPool(size_t max_connections, size_t threads);
  ~ConnectionPool() override;

  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

  // True on the overflow thread, i.e. for a connection over the cap.
  static bool OverCapacity();

 private:
  void Work(bool overflow);

  const size_t max_connections_;
  std::mutex mu_;
  std::condition_variable cv_;           // for the threads serving queue_
  std::condition_variable overflow_cv_;  // for the overflow thread
  std::deque<std::function<void()>> queue_;     // within the cap, waiting for a thread
  std::deque<std::function<void()>> overflow_;  // over the cap
  size_t in_flight_ = 0;                        // queued or running within the cap
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace wharf::api
