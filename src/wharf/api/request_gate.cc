#include "wharf/api/request_gate.h"

#include <algorithm>

namespace wharf::api {

RequestGate::RequestGate(size_t slots) : slots_(std::max<size_t>(1, slots)) {}

void RequestGate::Enter() {
  std::unique_lock lock(mu_);
  if (busy_ < slots_ && queue_.empty()) {
    ++busy_;
    return;
  }
  Waiter me;
  queue_.push_back(&me);
  me.cv.wait(lock, [&] { return me.admitted; });
  // Leave() handed its slot over: busy_ already counts this request.
}

void RequestGate::Leave() {
  std::lock_guard lock(mu_);
  if (queue_.empty()) {
    --busy_;
    return;
  }
  // Hand the slot straight to the oldest waiter, so a newcomer cannot take it first.
  Waiter* next = queue_.front();
  queue_.pop_front();
  next->admitted = true;
  next->cv.notify_one();
}

size_t RequestGate::waiting() {
  std::lock_guard lock(mu_);
  return queue_.size();
}

}  // namespace wharf::api
