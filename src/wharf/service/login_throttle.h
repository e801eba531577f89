// Slows password guessing. Login attempts are counted per user name and per client address;
// once a user has `free_failures` failures (an address `free_failures_per_address`, higher
// because several people may share one address) inside `window_s`, attempts for it are refused
// (without checking the password) for a delay that doubles with each further failure, up to
// `max_delay_s`. Thread-safe.
//
// An attempt is counted as a failure when it begins, before the password is checked, in the
// same step as the check that admits it: so N concurrent attempts for one user admit exactly
// `free_failures` of them, however long the password hash takes. Only Success() takes the
// count back. The caller's sequence for each login is:
//
//   if (int64_t wait = throttle.Begin(user, address, now); wait > 0) -> 429, Retry-After: wait
//   verify the password
//   if it matched: throttle.Success(user, address)
//   otherwise (wrong password, unknown user, or any error): nothing, it stays a failure
//
// Memory is bounded: at most `max_keys` keys (a user name or an address each) are remembered.
// To make room, all keys whose window has passed and that do not block are forgotten; if that
// is not enough, keys that are not blocking go one by one, the one with the most free
// failures left first, then the one whose last failure is the oldest. A key that is blocking
// (its delay has not ended) is never forgotten, so flooding the table with junk names cannot
// lift a block. If every key is blocking and the table is full, an attempt that needs a new
// key is refused (Begin returns the wait until the first block ends) rather than admitted
// uncounted: the throttle fails closed. An attacker who keeps max_keys keys blocking can thus
// delay logins by new names and addresses, but never gets an unthrottled guess; names and
// addresses already in the table keep their counts, and live sessions are unaffected. A key
// that is counting but not yet blocking is forgotten only once every other forgettable key has
// as few free failures left, so to wipe a user's k failures a flooder must first bring
// max_keys other keys to k failures each inside the window, each failure a hashed attempt.
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
    size_t max_keys = 10000;  // at least 2 (a user and an address); smaller counts as 2
  };
  LoginThrottle() : LoginThrottle(Options{}) {}
  explicit LoginThrottle(Options options);

  // Starts a login attempt at `now` (epoch seconds). Returns 0 if it may go ahead, and then
  // it is already counted as a failure for `user` and `address`. Returns the seconds to wait
  // (> 0, for Retry-After) if it is refused; a refused attempt is not counted.
  int64_t Begin(const std::string& user, const std::string& address, int64_t now);
  // The attempt that Begin(user, address, ...) admitted had the right password: clears the
  // user's count and takes this attempt back from the address's count (so that people behind
  // one address who log in successfully do not block it). Call it once per admitted attempt.
  void Success(const std::string& user, const std::string& address);

 private:
  struct Entry {
    int failures = 0;
    int64_t first_failure = 0;
    int64_t last_failure = 0;
    int64_t blocked_until = 0;
    int64_t blocked_until_before = 0;  // before the last failure, for Success to restore
  };
  int64_t WaitFor(const std::string& key, int64_t now) const;
  int64_t MakeRoom(size_t needed, const std::string& keep1, const std::string& keep2, int64_t now);
  bool Stale(const Entry& e, int64_t now) const;
  int FreeFailures(const std::string& key) const;
  void Count(const std::string& key, int free_failures, int64_t now);

  Options options_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace wharf::service
