#include "wharf/service/login_throttle.h"

#include <algorithm>

namespace wharf::service {

int64_t LoginThrottle::WaitFor(const std::string& key, int64_t now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return 0;
  return std::max<int64_t>(0, it->second.blocked_until - now);
}

int64_t LoginThrottle::Check(const std::string& user, const std::string& address, int64_t now) {
  std::lock_guard lock(mu_);
  return std::max(WaitFor("u:" + user, now), WaitFor("a:" + address, now));
}

void LoginThrottle::Count(const std::string& key, int free_failures, int64_t now) {
  if (!entries_.contains(key) && entries_.size() >= options_.max_keys) {
    auto stalest = std::min_element(entries_.begin(), entries_.end(), [](auto& a, auto& b) {
      return a.second.last_failure < b.second.last_failure;
    });
    entries_.erase(stalest);
  }
  Entry& e = entries_[key];
  if (e.failures > 0 && now - e.first_failure > options_.window_s && now >= e.blocked_until) {
    e = Entry{};
  }
  if (e.failures == 0) e.first_failure = now;
  e.last_failure = now;
  ++e.failures;
  int over = e.failures - free_failures;
  if (over >= 0) {
    int64_t delay = options_.base_delay_s << std::min(over, 20);
    e.blocked_until = now + std::min(delay, options_.max_delay_s);
  }
}

void LoginThrottle::Failure(const std::string& user, const std::string& address, int64_t now) {
  std::lock_guard lock(mu_);
  Count("u:" + user, options_.free_failures, now);
  Count("a:" + address, options_.free_failures_per_address, now);
}

void LoginThrottle::Success(const std::string& user) {
  std::lock_guard lock(mu_);
  entries_.erase("u:" + user);
}

}  // namespace wharf::service
