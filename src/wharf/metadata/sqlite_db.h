// A thin RAII layer over the SQLite C API, private to the metadata module: a connection, a
// reusable prepared statement, and a transaction that rolls back unless committed.
//
// Not thread-safe: the owner serialises every use of one SqliteDb (Database holds its mutex).
// sqlite3.h is deliberately not included here; the handles are only forward-declared.
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "wharf/base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace wharf::metadata {

// A statement prepared once and executed many times. Parameters are bound in SQL order with
// Bind(), rows are read with Step() and the column accessors, and Reset() (or a ScopedReset)
// returns the statement to its initial state with its bindings cleared.
class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binds `values` to parameters 1..n. Strings are copied; a failed bind is reported by the
  // next Step() so that call sites need not check every value.
  template <typename... Values>
  void Bind(const Values&... values) {
    int index = 0;
    (BindAt(++index, values), ...);
  }
  void BindAt(int index, std::string_view value);
  void BindAt(int index, int64_t value);

  // Advances to the next row: true when a row is available, false when the statement is done.
  Result<bool> Step();
  // Calls on_row() for every remaining row; the column accessors read the current row.
  template <typename OnRow>
  Result<void> ForEachRow(OnRow&& on_row) {
    for (;;) {
      WHARF_ASSIGN_OR_RETURN(auto row, Step());
      if (!row) return {};
      on_row();
    }
  }
  // Steps a statement that returns no rows (or whose rows are not wanted) to completion.
  Result<void> Run() {
    return ForEachRow([] {});
  }
  // Steps once and requires a row, e.g. for RETURNING or count(*).
  Result<void> StepToRow();

  int64_t Int(int column) const;
  std::string Text(int column) const;

  // Resets the statement and clears its bindings; safe to call at any point.
  void Reset();

 private:
  Error LastError() const;

  sqlite3_stmt* stmt_ = nullptr;
  int bind_error_ = 0;  // first failed sqlite3_bind_* result code, 0 when none
};

// Resets a cached statement when the scope ends, whether the use succeeded or not.
class ScopedReset {
 public:
  explicit ScopedReset(Statement& statement) : statement_(statement) {}
  ScopedReset(const ScopedReset&) = delete;
  ScopedReset& operator=(const ScopedReset&) = delete;
  ~ScopedReset() { statement_.Reset(); }

 private:
  Statement& statement_;
};

// Binds `values` to a cached statement, steps it to completion and resets it.
template <typename... Values>
Result<void> RunWith(Statement& statement, const Values&... values) {
  ScopedReset reset(statement);
  statement.Bind(values...);
  return statement.Run();
}

// One SQLite connection and the statements every transaction needs.
class SqliteDb {
 public:
  // Opens (creating if missing) the database file. Performs no I/O on the file contents yet,
  // so a file that is not a database is only detected by the first statement.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::filesystem::path& file);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more ';'-separated statements, discarding any rows.
  Result<void> Exec(std::string_view sql);
  // Prepares `sql` for repeated use (SQLITE_PREPARE_PERSISTENT).
  Result<Statement> Prepare(std::string_view sql);
  // Prepares each statement's SQL into it, stopping at the first failure (Internal with
  // SQLite's message and the SQL).
  struct StatementSql {
    Statement* statement;
    std::string sql;
  };
  Result<void> PrepareAll(std::initializer_list<StatementSql> statements);
  // Rows changed by the most recent INSERT, UPDATE or DELETE.
  int64_t Changes() const;
  // True when a transaction is open (false again after SQLite rolled one back on its own).
  bool InTransaction() const;

 private:
  friend class Transaction;
  explicit SqliteDb(sqlite3* handle) : handle_(handle) {}
  Result<void> PrepareTransactionStatements();
  Error LastError() const;

  struct Closer {
    void operator()(sqlite3* handle) const;
  };
  // Declared first so it is destroyed last, after the statements below are finalized.
  std::unique_ptr<sqlite3, Closer> handle_;
  Statement begin_write_;  // BEGIN IMMEDIATE: take the write lock now, not at the first write
  Statement begin_read_;   // BEGIN: a consistent snapshot for multi-statement reads
  Statement commit_;
  Statement rollback_;
};

// The cached statements of one store, prepared together the first time the store uses the
// connection (so that a store's constructor cannot fail). Used under the connection's lock.
class StatementCache {
 public:
  virtual ~StatementCache() = default;

  // Prepares every statement unless that already succeeded; an error leaves the cache
  // unprepared, to be tried again by the next call.
  Result<void> PrepareOnce(SqliteDb& db) {
    if (prepared_) return {};
    WHARF_RETURN_IF_ERROR(Prepare(db));
    prepared_ = true;
    return {};
  }

 protected:
  virtual Result<void> Prepare(SqliteDb& db) = 0;

 private:
  bool prepared_ = false;
};

// A transaction that rolls back when it goes out of scope uncommitted. Statements used inside
// it must be reset before it ends (ScopedReset declared after the Transaction does that). A read
// transaction needs no Commit(): ending it just releases its snapshot.
class Transaction {
 public:
  explicit Transaction(SqliteDb& db) : db_(db) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Result<void> BeginWrite();
  Result<void> BeginRead();
  Result<void> Commit();

 private:
  Result<void> Begin(Statement& begin);

  SqliteDb& db_;
  bool open_ = false;
};

}  // namespace wharf::metadata
