#include "wharf/metadata/user_store.h"

#include "wharf/metadata/sqlite_db.h"

namespace wharf::metadata {

struct UserStore::Impl : StatementCache {
  Statement put_user;
  Statement insert_user;
  Statement get_user;
  Statement count_users;
  Statement list_users;
  Statement delete_user;
  Statement count_admins;
  Statement put_session;
  Statement get_session;
  Statement delete_session;
  Statement delete_user_sessions;
  Statement delete_expired_sessions;

  Result<void> Prepare(SqliteDb& db) override {
    return db.PrepareAll({
        // An upsert rather than INSERT OR REPLACE: REPLACE deletes the old row first, and the
        // cascade would silently end the user's sessions.
        {&put_user,
         "INSERT INTO users (username, password_hash, is_admin) VALUES (?, ?, ?) "
         "ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, "
         "is_admin = excluded.is_admin"},
        {&insert_user,
         "INSERT INTO users (username, password_hash, is_admin) VALUES (?, ?, ?) "
         "ON CONFLICT (username) DO NOTHING"},
        {&get_user, "SELECT username, password_hash, is_admin FROM users WHERE username = ?"},
        {&count_users, "SELECT count(*) FROM users"},
        {&list_users, "SELECT username, password_hash, is_admin FROM users ORDER BY username"},
        {&delete_user, "DELETE FROM users WHERE username = ?"},
        {&count_admins, "SELECT count(*) FROM users WHERE is_admin != 0"},
        {&put_session,
         "INSERT OR REPLACE INTO sessions (id_hash, username, created_at, expires_at) "
         "VALUES (?, ?, ?, ?)"},
        {&get_session,
         "SELECT s.id_hash, s.username, s.created_at, s.expires_at, u.is_admin FROM sessions s "
         "JOIN users u ON u.username = s.username WHERE s.id_hash = ?"},
        {&delete_session, "DELETE FROM sessions WHERE id_hash = ?"},
        {&delete_user_sessions, "DELETE FROM sessions WHERE username = ?"},
        {&delete_expired_sessions, "DELETE FROM sessions WHERE expires_at <= ?"},
    });
  }
};

UserStore::UserStore(Database& db) : db_(db), impl_(std::make_unique<Impl>()) {}

UserStore::~UserStore() { db_.Release(impl_); }

// --- Users ---

Result<void> UserStore::PutUser(const UserRecord& user) {
  return db_.Locked(*impl_, "UserStore::PutUser", [&](SqliteDb&) {
    return RunWith(impl_->put_user, user.username, user.password_hash, int64_t{user.is_admin});
  });
}

Result<bool> UserStore::InsertUser(const UserRecord& user) {
  return db_.Locked(*impl_, "UserStore::InsertUser", [&](SqliteDb& db) -> Result<bool> {
    WHARF_RETURN_IF_ERROR(
        RunWith(impl_->insert_user, user.username, user.password_hash, int64_t{user.is_admin}));
    return db.Changes() == 1;
  });
}

Result<std::optional<UserRecord>> UserStore::GetUser(const std::string& username) {
  return db_.Locked(*impl_, "UserStore::GetUser",
                    [&](SqliteDb&) -> Result<std::optional<UserRecord>> {
                      Statement& query = impl_->get_user;
                      ScopedReset reset(query);
                      query.Bind(username);
                      WHARF_ASSIGN_OR_RETURN(auto row, query.Step());
                      if (!row) return std::nullopt;
                      return UserRecord{query.Text(0), query.Text(1), query.Int(2) != 0};
                    });
}

Result<int64_t> UserStore::CountUsers() {
  return db_.Locked(*impl_, "UserStore::CountUsers", [&](SqliteDb&) -> Result<int64_t> {
    ScopedReset reset(impl_->count_users);
    WHARF_RETURN_IF_ERROR(impl_->count_users.StepToRow());
    return impl_->count_users.Int(0);
  });
}

Result<std::vector<UserRecord>> UserStore::ListUsers() {
  return db_.Locked(*impl_, "UserStore::ListUsers",
                    [&](SqliteDb&) -> Result<std::vector<UserRecord>> {
                      Statement& query = impl_->list_users;
                      ScopedReset reset(query);
                      std::vector<UserRecord> out;
                      for (;;) {
                        WHARF_ASSIGN_OR_RETURN(auto row, query.Step());
                        if (!row) return out;
                        out.push_back({query.Text(0), query.Text(1), query.Int(2) != 0});
                      }
                    });
}

Result<void> UserStore::DeleteUser(const std::string& username) {
  WHARF_RETURN_IF_ERROR(DeleteUserIf(username, false));
  return {};
}

Result<UserStore::RemoveOutcome> UserStore::DeleteUserIf(const std::string& username,
                                                         bool keep_an_admin) {
  return db_.Locked(*impl_, "UserStore::DeleteUser", [&](SqliteDb& db) -> Result<RemoveOutcome> {
    Transaction txn(db);
    WHARF_RETURN_IF_ERROR(txn.BeginWrite());
    if (keep_an_admin) {
      Statement& user = impl_->get_user;
      ScopedReset reset_user(user);
      user.Bind(username);
      WHARF_ASSIGN_OR_RETURN(auto row, user.Step());
      if (!row) return RemoveOutcome::kNoSuchUser;
      if (user.Int(2) != 0) {
        ScopedReset reset_count(impl_->count_admins);
        WHARF_RETURN_IF_ERROR(impl_->count_admins.StepToRow());
        if (impl_->count_admins.Int(0) <= 1) return RemoveOutcome::kLastAdmin;
      }
    }
    WHARF_RETURN_IF_ERROR(RunWith(impl_->delete_user_sessions, username));
    WHARF_RETURN_IF_ERROR(RunWith(impl_->delete_user, username));
    const bool removed = db.Changes() == 1;
    WHARF_RETURN_IF_ERROR(txn.Commit());
    return removed ? RemoveOutcome::kRemoved : RemoveOutcome::kNoSuchUser;
  });
}

// --- Sessions ---

Result<void> UserStore::PutSession(const SessionRecord& session) {
  return db_.Locked(*impl_, "UserStore::PutSession", [&](SqliteDb&) {
    return RunWith(impl_->put_session, session.id_hash, session.username, session.created_at,
                   session.expires_at);
  });
}

Result<std::optional<SessionRecord>> UserStore::GetSession(const std::string& id_hash) {
  return db_.Locked(*impl_, "UserStore::GetSession",
                    [&](SqliteDb&) -> Result<std::optional<SessionRecord>> {
                      Statement& query = impl_->get_session;
                      ScopedReset reset(query);
                      query.Bind(id_hash);
                      WHARF_ASSIGN_OR_RETURN(auto row, query.Step());
                      if (!row) return std::nullopt;
                      return SessionRecord{query.Text(0), query.Text(1), query.Int(2), query.Int(3),
                                           query.Int(4) != 0};
                    });
}

Result<void> UserStore::DeleteSession(const std::string& id_hash) {
  return db_.Locked(*impl_, "UserStore::DeleteSession",
                    [&](SqliteDb&) { return RunWith(impl_->delete_session, id_hash); });
}

Result<void> UserStore::DeleteSessionsOf(const std::string& username) {
  return db_.Locked(*impl_, "UserStore::DeleteSessionsOf",
                    [&](SqliteDb&) { return RunWith(impl_->delete_user_sessions, username); });
}

Result<void> UserStore::DeleteExpiredSessions(int64_t now) {
  return db_.Locked(*impl_, "UserStore::DeleteExpiredSessions",
                    [&](SqliteDb&) { return RunWith(impl_->delete_expired_sessions, now); });
}

}  // namespace wharf::metadata
