// Slows password guessing. Failed logins are counted per user name and per client address;
// once a user has `free_failures` failures (an address `free_failures_per_address`, higher
// because several people may share one address) inside `window_s`, attempts for it are refused
// (without checking the password) for a delay that doubles with each further failure, up to
// `max_delay_s`. A successful login clears the user's count. Memory is bounded: at most
// `max_keys` keys are remembered, the stalest forgotten first. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace wharf::service {

class LoginThrottle {
 public:
  struct Options {
    int free_failures = 5;
    int free_failures_per_address = 20;
    int64_t window_s = 300;
    int64_t base_delay_s = 2;
    int64_t max_delay_s = 300;
    size_t max_keys = 10000;
  };
  LoginThrottle() : LoginThrottle(Options{}) {}
  explicit LoginThrottle(Options options) : options_(options) {}

  // 0 if an attempt may proceed now, else the seconds to wait (for Retry-After).
  int64_t Check(const std::string& user, const std::string& address, int64_t now);
  void Failure(const std::string& user, const std::string& address, int64_t now);
  void Success(const std::string& user);

 private:
  struct Entry {
    int failures = 0;
    int64_t first_failure = 0;
    int64_t last_failure = 0;
    int64_t blocked_until = 0;
  };
  int64_t WaitFor(const std::string& key, int64_t now);
  void Count(const std::string& key, int free_failures, int64_t now);

  Options options_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace wharf::service
