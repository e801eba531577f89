#include "wharf/pull/event_bus.h"

#include <algorithm>
#include <chrono>

namespace wharf::pull {

EventBus::EventBus(size_t window, size_t subscriber_queue)
    : window_(window), subscriber_queue_(subscriber_queue) {}

void EventBus::Publish(std::string type, std::string data) {
  {
    std::lock_guard lock(mu_);
    Event e{next_id_++, std::move(type), std::move(data)};
    for (Subscription* sub : subscribers_) {
      if (sub->dropped_) continue;
      if (sub->queue_.size() >= subscriber_queue_) {
        sub->dropped_ = true;
        sub->queue_.clear();
      } else {
        sub->queue_.push_back(e);
      }
      if (sub->wake_) sub->wake_();
    }
    recent_.push_back(std::move(e));
    if (recent_.size() > window_) recent_.pop_front();
  }
  cv_.notify_all();
}

std::shared_ptr<EventBus::Subscription> EventBus::Subscribe(int64_t last_event_id) {
  auto sub = std::make_shared<Subscription>();
  sub->bus_ = this;
  std::lock_guard lock(mu_);
  if (last_event_id >= 0) {
    for (const Event& e : recent_) {
      if (e.id > last_event_id) sub->queue_.push_back(e);
    }
  }
  subscribers_.push_back(sub.get());
  return sub;
}

void EventBus::Unsubscribe(Subscription* sub) {
  std::lock_guard lock(mu_);
  subscribers_.remove(sub);
}

void EventBus::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    for (Subscription* sub : subscribers_) {
      if (sub->wake_) sub->wake_();
    }
  }
  cv_.notify_all();
}

bool EventBus::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

int64_t EventBus::last_id() const {
  std::lock_guard lock(mu_);
  return next_id_ - 1;
}

EventBus::Subscription::~Subscription() {
  if (bus_ != nullptr) bus_->Unsubscribe(this);
}

bool EventBus::Subscription::dropped() const {
  std::lock_guard lock(bus_->mu_);
  return dropped_;
}

void EventBus::Subscription::SetWaker(std::function<void()> wake) {
  std::lock_guard lock(bus_->mu_);
  wake_ = std::move(wake);
}

std::optional<Event> EventBus::Subscription::Next(int timeout_ms) {
  std::unique_lock lock(bus_->mu_);
  bus_->cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                     [&] { return bus_->closed_ || dropped_ || !queue_.empty(); });
  if (bus_->closed_ || dropped_ || queue_.empty()) return std::nullopt;
  Event e = std::move(queue_.front());
  queue_.pop_front();
  return e;
}

}  // namespace wharf::pull
