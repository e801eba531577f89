#include "wharf/api/connection_pool.h"

#include <algorithm>

namespace wharf::api {

namespace {
thread_local bool tl_over_capacity = false;
}  // namespace

ConnectionPool::ConnectionPool(size_t max_connections, size_t threads)
    : max_connections_(max_connections == 0 ? 1 : max_connections) {
  const size_t workers = std::clamp<size_t>(threads, 1, max_connections_);
  threads_.reserve(workers + 1);
  for (size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { Work(false); });
  threads_.emplace_back([this] { Work(true); });
}

ConnectionPool::~ConnectionPool() { shutdown(); }

bool ConnectionPool::OverCapacity() { return tl_over_capacity; }

void ConnectionPool::enqueue(std::function<void()> fn) {
  bool over;
  {
    std::lock_guard lock(mu_);
    over = in_flight_ >= max_connections_;
    if (!over) ++in_flight_;
    (over ? overflow_ : queue_).push_back(std::move(fn));
  }
  // One connection needs one thread: waking every idle one (64 of them) for each accepted
  // connection cost more CPU than serving its first request.
  (over ? overflow_cv_ : cv_).notify_one();
}

void ConnectionPool::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  overflow_cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void ConnectionPool::Work(bool overflow) {
  tl_over_capacity = overflow;
  auto& mine = overflow ? overflow_ : queue_;
  auto& cv = overflow ? overflow_cv_ : cv_;
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock lock(mu_);
      cv.wait(lock, [&] { return stopping_ || !mine.empty(); });
      if (mine.empty()) return;  // stopping, and nothing left to serve
      fn = std::move(mine.front());
      mine.pop_front();
    }
    fn();
    if (!overflow) {
      std::lock_guard lock(mu_);
      --in_flight_;
    }
  }
}

}  // namespace wharf::api
