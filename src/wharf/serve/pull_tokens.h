// Who may pull from the Distribution API: Docker's token flow and a short cache of verified
// Basic credentials.
//
// PullTokens issues the bearer tokens of `GET /v2/token`: 256-bit random values, of which only
// a SHA-256 is kept, valid for `ttl_s` and only for pulling the repositories their scope named
// (and for `GET /v2/`; the catalog only with the scope "registry:catalog:*"). At most
// `max_tokens` live at once: past that the ones closest to expiry are forgotten first.
//
// CredentialCache remembers, for `ttl_s`, that a user name and password were verified, so that
// a client sending Basic credentials on every request (containerd does) costs one argon2id
// hash per `ttl_s`, not one per request. It keeps a keyed SHA-256 of the pair (the key random
// per process), never the password. Bounded by `max_entries`.
//
// Both are thread-safe and count time on the Clock given (tests pass a FakeClock).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "wharf/base/clock.h"
#include "wharf/base/status.h"

namespace wharf::serve {

// What a token or a credential lets its bearer do.
struct PullGrant {
  std::string username;
  std::set<std::string> repositories;  // canonical names
  bool catalog = false;
  bool any_repository = false;  // Basic credentials and anonymous mode
};

class PullTokens {
 public:
  explicit PullTokens(Clock& clock, int64_t ttl_s = 300, size_t max_tokens = 100000);

  struct Issued {
    std::string token;
    int64_t expires_in = 0;
    int64_t issued_at = 0;  // epoch seconds
  };
  Issued Issue(PullGrant grant);
  // The grant of a live token; Unauthenticated when unknown or expired.
  Result<PullGrant> Check(const std::string& token);
  int64_t ttl_s() const { return ttl_s_; }

 private:
  struct Entry {
    PullGrant grant;
    int64_t expires_at = 0;
  };
  void MakeRoom(int64_t now);

  Clock& clock_;
  int64_t ttl_s_;
  size_t max_tokens_;
  std::mutex mu_;
  std::map<std::string, Entry> tokens_;  // SHA-256 of the token → what it grants
};

class CredentialCache {
 public:
  explicit CredentialCache(Clock& clock, int64_t ttl_s = 60, size_t max_entries = 1024);
  // True if the pair was verified less than ttl_s ago; is_admin is not kept (pulls only).
  bool Known(const std::string& username, const std::string& password);
  void Remember(const std::string& username, const std::string& password);

 private:
  std::string Key(const std::string& username, const std::string& password) const;

  Clock& clock_;
  int64_t ttl_s_;
  size_t max_entries_;
  std::string salt_;
  std::mutex mu_;
  std::map<std::string, int64_t> entries_;  // key → expires_at
};

// True if `scope` ("repository:library/ubuntu:pull,push") asks to pull; sets `name` to the
// repository part. Scopes of other kinds or without pull give false.
bool ParsePullScope(const std::string& scope, std::string& name);

}  // namespace wharf::serve
