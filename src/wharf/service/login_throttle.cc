#include "wharf/service/login_throttle.h"

#include <algorithm>
#include <limits>

namespace wharf::service {

LoginThrottle::LoginThrottle(Options options) : options_(options) {
  options_.max_keys = std::max<size_t>(options_.max_keys, 2);
}

int64_t LoginThrottle::WaitFor(const std::string& key, int64_t now) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return 0;
  return std::max<int64_t>(0, it->second.blocked_until - now);
}

// Not blocking, and its window is over: the next failure would start a new count anyway, so
// forgetting it loses nothing.
bool LoginThrottle::Stale(const Entry& e, int64_t now) const {
  return now >= e.blocked_until && now - e.first_failure > options_.window_s;
}

int LoginThrottle::FreeFailures(const std::string& key) const {
  return key.starts_with("u:") ? options_.free_failures : options_.free_failures_per_address;
}

// Makes room for `needed` new keys without forgetting a blocking key or the keys to keep.
// Returns 0 once there is room, else the seconds until the first block ends.
int64_t LoginThrottle::MakeRoom(size_t needed, const std::string& keep1, const std::string& keep2,
                                int64_t now) {
  if (entries_.size() + needed <= options_.max_keys) return 0;
  const auto kept = [&](const std::string& key) { return key == keep1 || key == keep2; };
  std::erase_if(entries_, [&](const auto& kv) { return !kept(kv.first) && Stale(kv.second, now); });
  // The first to go: the most free failures left, then the oldest last failure.
  const auto rank = [&](const auto& kv) {
    return std::pair(-(FreeFailures(kv.first) - kv.second.failures), kv.second.last_failure);
  };
  while (entries_.size() + needed > options_.max_keys) {
    auto victim = entries_.end();
    int64_t first_unblock = std::numeric_limits<int64_t>::max();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second.blocked_until > now) {
        first_unblock = std::min(first_unblock, it->second.blocked_until);
      } else if (!kept(it->first) && (victim == entries_.end() || rank(*it) < rank(*victim))) {
        victim = it;
      }
    }
    if (victim == entries_.end()) return std::max<int64_t>(1, first_unblock - now);
    entries_.erase(victim);
  }
  return 0;
}

void LoginThrottle::Count(const std::string& key, int free_failures, int64_t now) {
  Entry& e = entries_[key];
  if (e.failures > 0 && Stale(e, now)) e = Entry{};
  if (e.failures == 0) e.first_failure = now;
  e.last_failure = now;
  e.blocked_until_before = e.blocked_until;
  ++e.failures;
  int over = e.failures - free_failures;
  if (over >= 0) {
    int64_t delay = options_.base_delay_s << std::min(over, 20);
    e.blocked_until = now + std::min(delay, options_.max_delay_s);
  }
}

int64_t LoginThrottle::Begin(const std::string& user, const std::string& address, int64_t now) {
  const std::string user_key = "u:" + user;
  const std::string address_key = "a:" + address;
  std::lock_guard lock(mu_);
  if (int64_t wait = std::max(WaitFor(user_key, now), WaitFor(address_key, now)); wait > 0) {
    return wait;
  }
  const size_t needed = !entries_.contains(user_key) + !entries_.contains(address_key);
  if (int64_t wait = MakeRoom(needed, user_key, address_key, now); wait > 0) return wait;
  Count(user_key, options_.free_failures, now);
  Count(address_key, options_.free_failures_per_address, now);
  return 0;
}

void LoginThrottle::Success(const std::string& user, const std::string& address) {
  std::lock_guard lock(mu_);
  entries_.erase("u:" + user);
  auto it = entries_.find("a:" + address);
  if (it == entries_.end() || it->second.failures == 0) return;  // forgotten meanwhile
  Entry& e = it->second;
  --e.failures;
  // One failure less: the block goes back to what it was before the last failure counted,
  // which is the block for this count (whichever attempt that last failure was).
  e.blocked_until = e.blocked_until_before;
  if (e.failures == 0) entries_.erase(it);
}

}  // namespace wharf::service
