// Users and login sessions. Passwords are stored as argon2id hashes (libsodium
// crypto_pwhash_str); session ids are 256-bit random values of which only a SHA-256 is stored,
// so a copy of the database does not hand out live sessions. Sessions survive a restart and
// expire after the configured TTL, on the wall time of the Clock given. Thread-safe.
//
// A login for a name that does not exist costs what a wrong password costs: it verifies the
// password against a dummy hash, made once (on the first login) with the same argon2id
// parameters as real ones, so response times do not tell which user names exist.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "wharf/base/clock.h"
#include "wharf/base/status.h"
#include "wharf/metadata/user_store.h"

namespace wharf::service {

struct Session {
  std::string id;  // the secret cookie value (only returned by Login)
  std::string username;
  bool is_admin = false;
  int64_t created_at = 0;  // login time, epoch seconds
};

// True if `password` matches `hash` (a crypto_pwhash_str string). The default is libsodium's
// crypto_pwhash_str_verify; tests pass their own to see which hashes a login verified.
using PasswordVerifier = std::function<bool(const std::string& hash, const std::string& password)>;

class Auth {
 public:
  // `verify` empty: libsodium's. Sessions are stamped and expire on `clock` (tests pass a
  // FakeClock), which must outlive this.
  Auth(metadata::UserStore& metadata, int64_t session_ttl_s, PasswordVerifier verify = {},
       Clock& clock = Clock::Default());

  // Creates the admin user if there are no users. Uses `password` if not empty, otherwise
  // generates one; returns the password it generated (empty if none was generated or the
  // admin already existed).
  Result<std::string> EnsureAdmin(const std::string& password);
  // Creates or replaces a user.
  Result<void> SetUser(const std::string& username, const std::string& password, bool is_admin);

  // Changes a password (NotFound if no such user) and ends the user's sessions.
  Result<void> ChangePassword(const std::string& username, const std::string& password);
  // Removes a user and their sessions; NotFound if no such user; Conflict when it is the last
  // admin (nobody could manage wharf any more).
  Result<void> RemoveUser(const std::string& username);

  // What the API shows of a user (never the hash).
  struct UserView {
    std::string username;
    bool is_admin = false;
  };
  // Every user, by name.
  Result<std::vector<UserView>> ListUsers();
  // Creates a user: InvalidArgument for a name outside [A-Za-z0-9._-]{1,64} or a password
  // CheckPassword refuses; Conflict when the name is taken.
  Result<void> AddUser(const std::string& username, const std::string& password, bool is_admin);
  // A user's own change: the current password must match (Unauthenticated "the current
  // password is wrong", after one verification, as a login), the new one pass CheckPassword;
  // then as ChangePassword (every session of the user ends, this one too).
  Result<void> ChangeOwnPassword(const std::string& username, const std::string& current,
                                 const std::string& password);
  // InvalidArgument unless `password` has 8 to 1024 bytes.
  static Result<void> CheckPassword(const std::string& password);

  // Unauthenticated "invalid username or password" for a wrong password and an unknown user
  // alike, each after one password verification. Internal if the dummy hash cannot be made.
  Result<Session> Login(const std::string& username, const std::string& password);
  // Login's check without a session: the user (Session::id empty) when the password matches;
  // the same errors and the same cost. For clients that send credentials with each request
  // (the Distribution API).
  Result<Session> Authenticate(const std::string& username, const std::string& password);
  // Unauthenticated if the id is unknown or expired.
  Result<Session> Check(const std::string& session_id);
  Result<void> Logout(const std::string& session_id);

 private:
  Result<std::string> DummyHash();
  bool Verify(const std::string& hash, const std::string& password);

  metadata::UserStore& metadata_;
  int64_t ttl_s_;
  PasswordVerifier verify_;
  Clock& clock_;
  std::mutex dummy_mu_;
  std::string dummy_hash_;  // empty until the first login
};

}  // namespace wharf::service
