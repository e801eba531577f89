// Bearer tokens per (registry host, scope), kept until shortly before they expire.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace wharf::registry {

class TokenCache {
 public:
  using Clock = std::chrono::steady_clock;

  // The cached token, or nullopt if none or expired.
  std::optional<std::string> Get(const std::string& host, const std::string& scope) const;
  // Keeps `token` for `expires_in` seconds, less a margin so that a token is not sent in the
  // second it expires.
  void Put(const std::string& host, const std::string& scope, std::string token,
           std::chrono::seconds expires_in);
  // Forgets a token the registry refused.
  void Drop(const std::string& host, const std::string& scope);

 private:
  struct Entry {
    std::string token;
    Clock::time_point expires;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Entry> entries_;
};

}  // namespace wharf::registry
