// The one SQLite file that holds everything wharf knows about its images, jobs, users and
// sessions, and update checks (the blobs themselves live in the content store; the metadata
// only names them).
// Open creates the file if needed, sets WAL mode, synchronous=FULL and foreign keys, and
// migrates the schema (metadata_schema.h).
//
// A Database owns the connection and the lock that serialises its use. It is read and written
// through the stores built over it, one per kind of record: ImageStore (images, tags, blob
// edges), JobStore (download jobs), UserStore (users and their sessions), UpdateStore (what the
// last update check of each tag found), RegistryStore (registry settings made through the API).
// Each store takes the Database in its constructor and must be destroyed before it.
//
// Thread-safe: every operation of every store over one Database holds its lock from start to
// end, so operations run one at a time and each sees the effects of those before it.
//
// Errors: SQLite's failures (I/O, a full disk, a constraint, a corrupt file) are Internal with
// SQLite's message, prefixed with "metadata " and the failing operation, e.g.
// "metadata ImageStore::Put: database or disk is full". A failed write changes nothing.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "wharf/base/status.h"

namespace wharf::metadata {

class SqliteDb;

class Database {
 public:
  // Opens (creating it and its parent directory, mode 0600, if missing) and migrates the
  // database at `file`. Internal "open metadata database FILE: ..." when the file is not
  // SQLite, its schema is newer than this build knows, or SQLite fails; the file is then left
  // as it was.
  static Result<std::unique_ptr<Database>> Open(const std::filesystem::path& file);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // True when PRAGMA integrity_check answers "ok", false when it lists problems; Internal
  // when the check itself cannot run.
  Result<bool> IntegrityOk();

 private:
  friend class ImageStore;
  friend class JobStore;
  friend class UserStore;
  friend class UpdateStore;
  friend class RegistryStore;

  explicit Database(std::unique_ptr<SqliteDb> db);

  // For a store's destructor: destroys its statements under the lock, since they are
  // finalized on the connection the other stores share.
  template <typename Statements>
  void Release(std::unique_ptr<Statements>& statements) {
    std::lock_guard lock(mu_);
    statements.reset();
  }

  // Under the lock: prepares `statements` (a store's StatementCache, see sqlite_db.h) unless
  // they are already, then returns fn(connection) with any error prefixed with
  // "metadata <operation>: ".
  template <typename Statements, typename Fn>
  auto Locked(Statements& statements, std::string_view operation, Fn&& fn) {
    std::lock_guard lock(mu_);
    SqliteDb& db = *db_;
    auto result = [&]() -> decltype(fn(db)) {
      WHARF_RETURN_IF_ERROR(statements.PrepareOnce(db));
      return fn(db);
    }();
    if (!result) {
      result.error().message = "metadata " + std::string(operation) + ": " + result.error().message;
    }
    return result;
  }

  std::mutex mu_;
  std::unique_ptr<SqliteDb> db_;
};

}  // namespace wharf::metadata
