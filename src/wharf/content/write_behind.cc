#include "wharf/content/write_behind.h"

#include <utility>

namespace wharf::content {

WriteBehind::~WriteBehind() {
  if (!thread_.joinable()) return;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !busy_; });
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void WriteBehind::Start(std::function<int()> job) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return !busy_; });
  job_ = std::move(job);
  busy_ = true;
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  lock.unlock();
  cv_.notify_all();
}

int WriteBehind::Wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return !busy_; });
  return std::exchange(result_, 0);
}

void WriteBehind::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return busy_ || stopping_; });
    if (busy_) {
      std::function<int()> job = std::move(job_);
      lock.unlock();
      int rc = job();
      lock.lock();
      // The first failure is the one to report; later jobs see a file already in trouble.
      if (result_ == 0) result_ = rc;
      busy_ = false;
      cv_.notify_all();
      continue;
    }
    return;  // stopping, nothing in flight
  }
}

}  // namespace wharf::content
