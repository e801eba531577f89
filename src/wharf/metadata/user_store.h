// Users and their login sessions. A session belongs to a user: it cannot be stored for a user
// that does not exist, and it goes when its user goes. Only a hash of a session's id is stored
// (service::Auth makes ids and checks expiry).
//
// Thread-safe, as every store over a Database (database.h): each method is one operation under
// the Database's lock. Errors: besides those listed, Internal with SQLite's message (see
// database.h); a failed write changes nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/metadata/database.h"

namespace wharf::metadata {

struct UserRecord {
  std::string username;
  std::string password_hash;  // libsodium crypto_pwhash_str (argon2id)
  bool is_admin = false;
};

struct SessionRecord {
  std::string id_hash;  // sha256 hex of the session id (the id itself is never stored)
  std::string username;
  int64_t created_at = 0;
  int64_t expires_at = 0;
  bool is_admin = false;  // its user's, read with it by GetSession (not stored here)
};

class UserStore {
 public:
  // `db` must outlive the store.
  explicit UserStore(Database& db);
  ~UserStore();
  UserStore(const UserStore&) = delete;
  UserStore& operator=(const UserStore&) = delete;

  // Users.

  // Inserts the user, or updates the one of that name in place (its sessions stay and carry
  // the new is_admin).
  Result<void> PutUser(const UserRecord& user);
  // Inserts the user unless one of that name exists: true if inserted, false if the name is
  // taken (nothing changed). One statement, so two callers cannot both insert a name.
  Result<bool> InsertUser(const UserRecord& user);
  // The user of that name; none when there is no such user.
  Result<std::optional<UserRecord>> GetUser(const std::string& username);
  Result<int64_t> CountUsers();
  // Every user, by name (byte-wise).
  Result<std::vector<UserRecord>> ListUsers();
  // Removes a user and all their sessions, in one transaction. Success also when there is no
  // such user.
  Result<void> DeleteUser(const std::string& username);
  enum class RemoveOutcome { kRemoved, kNoSuchUser, kLastAdmin };
  // As DeleteUser, but with `keep_an_admin` an admin is removed only if another admin remains,
  // checked and done in one write transaction (two removals cannot leave no admin).
  Result<RemoveOutcome> DeleteUserIf(const std::string& username, bool keep_an_admin);

  // Sessions.

  // Inserts the session, replacing one with the same id_hash (session.is_admin is ignored).
  // Internal "... FOREIGN KEY constraint failed" when no user has session.username.
  Result<void> PutSession(const SessionRecord& session);
  // The session with its user's is_admin, in one query; none when there is no such session or
  // its user is gone. An expired session is returned too: the caller compares expires_at.
  Result<std::optional<SessionRecord>> GetSession(const std::string& id_hash);
  // Ends one session; success also when there is none.
  Result<void> DeleteSession(const std::string& id_hash);
  // Ends every session of a user (e.g. after a password change); success also when there is
  // none.
  Result<void> DeleteSessionsOf(const std::string& username);
  // Removes the sessions with expires_at <= now.
  Result<void> DeleteExpiredSessions(int64_t now);

 private:
  struct Impl;
  Database& db_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wharf::metadata
