// Bearer tokens per (registry host, scope), kept until shortly before they expire. Expiry is
// measured on the Clock given (its steady time), so that tests can let a token age with a
// FakeClock. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "wharf/base/clock.h"

namespace wharf::registry {

class TokenCache {
 public:
  // `clock` must outlive the cache.
  explicit TokenCache(Clock& clock = Clock::Default()) : clock_(clock) {}

  // The cached token, or nullopt if none or expired.
  std::optional<std::string> Get(const std::string& host, const std::string& scope) const;
  // Keeps `token` for `expires_in` seconds, less a margin so that a token is not sent in the
  // second it expires: 10 s, or half the lifetime of a token that lives under 20 s.
  void Put(const std::string& host, const std::string& scope, std::string token,
           std::chrono::seconds expires_in);
  // Forgets a token the registry refused.
  void Drop(const std::string& host, const std::string& scope);
  // Forgets every token of `host` (its credentials changed).
  void DropHost(const std::string& host);

 private:
  struct Entry {
    std::string token;
    Clock::SteadyTime expires;
  };
  Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Entry> entries_;
};

}  // namespace wharf::registry
