#include "wharf/registry/token_cache.h"

#include <algorithm>

namespace wharf::registry {

std::optional<std::string> TokenCache::Get(const std::string& host,
                                           const std::string& scope) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find({host, scope});
  if (it == entries_.end() || clock_.SteadyNow() >= it->second.expires) return std::nullopt;
  return it->second.token;
}

void TokenCache::Put(const std::string& host, const std::string& scope, std::string token,
                     std::chrono::seconds expires_in) {
  // Ten seconds early, but never less than half the lifetime for very short-lived tokens.
  auto margin = std::min<std::chrono::seconds>(std::chrono::seconds(10), expires_in / 2);
  std::lock_guard lock(mu_);
  // Expired entries of other scopes are dropped here so the map does not grow without bound.
  const auto now = clock_.SteadyNow();
  std::erase_if(entries_, [&](const auto& kv) { return now >= kv.second.expires; });
  entries_[{host, scope}] = Entry{std::move(token), now + expires_in - margin};
}

void TokenCache::Drop(const std::string& host, const std::string& scope) {
  std::lock_guard lock(mu_);
  entries_.erase({host, scope});
}

void TokenCache::DropHost(const std::string& host) {
  std::lock_guard lock(mu_);
  std::erase_if(entries_, [&](const auto& entry) { return entry.first.first == host; });
}

}  // namespace wharf::registry
