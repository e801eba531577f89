#include "wharf/metadata/sqlite_db.h"

#include <sqlite3.h>

#include <utility>

namespace wharf::metadata {

namespace {
// How long a statement waits for another connection's lock before failing with SQLITE_BUSY.
constexpr int kBusyTimeoutMs = 5000;
}  // namespace

// --- Statement ---

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), bind_error_(other.bind_error_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_error_ = other.bind_error_;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::BindAt(int index, std::string_view value) {
  int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
}

void Statement::BindAt(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
}

Result<bool> Statement::Step() {
  if (bind_error_ != 0) {
    return Internal(std::string("bind: ") + sqlite3_errstr(bind_error_));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return LastError();
}

Result<void> Statement::StepToRow() {
  WHARF_ASSIGN_OR_RETURN(auto row, Step());
  if (!row) return Internal(std::string("no row from: ") + sqlite3_sql(stmt_));
  return {};
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::Text(int column) const {
  // Text before bytes: sqlite3_column_bytes() then reports the length of that text.
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = 0;
}

Error Statement::LastError() const { return Internal(sqlite3_errmsg(sqlite3_db_handle(stmt_))); }

// --- SqliteDb ---

void SqliteDb::Closer::operator()(sqlite3* handle) const { sqlite3_close_v2(handle); }

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::filesystem::path& file) {
  sqlite3* handle = nullptr;
  // NOMUTEX: the owner serialises access, so SQLite's own per-connection mutex is redundant.
  int rc =
      sqlite3_open_v2(file.c_str(), &handle,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  // The handle exists (and must be closed) even when opening failed, unless out of memory.
  std::unique_ptr<SqliteDb> db(new SqliteDb(handle));
  if (rc != SQLITE_OK) {
    if (handle == nullptr) return Internal(sqlite3_errstr(rc));
    return db->LastError();
  }
  sqlite3_extended_result_codes(handle, 1);
  sqlite3_busy_timeout(handle, kBusyTimeoutMs);
  WHARF_RETURN_IF_ERROR(db->PrepareTransactionStatements());
  return db;
}

SqliteDb::~SqliteDb() = default;

Result<void> SqliteDb::PrepareTransactionStatements() {
  return PrepareAll({
      {&begin_write_, "BEGIN IMMEDIATE"},
      {&begin_read_, "BEGIN"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
  });
}

Result<void> SqliteDb::PrepareAll(std::initializer_list<StatementSql> statements) {
  for (const auto& [statement, sql] : statements) {
    WHARF_ASSIGN_OR_RETURN(auto prepared, Prepare(sql));
    *statement = std::move(prepared);
  }
  return {};
}

Result<void> SqliteDb::Exec(std::string_view sql) {
  std::string terminated(sql);
  if (sqlite3_exec(handle_.get(), terminated.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return LastError();
  }
  return {};
}

Result<Statement> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(handle_.get(), sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Internal(std::string(sqlite3_errmsg(handle_.get())) +
                    " (preparing: " + std::string(sql) + ")");
  }
  return Statement(stmt);
}

int64_t SqliteDb::Changes() const { return sqlite3_changes64(handle_.get()); }

bool SqliteDb::InTransaction() const { return sqlite3_get_autocommit(handle_.get()) == 0; }

Error SqliteDb::LastError() const { return Internal(sqlite3_errmsg(handle_.get())); }

// --- Transaction ---

Result<void> Transaction::BeginWrite() { return Begin(db_.begin_write_); }

Result<void> Transaction::BeginRead() { return Begin(db_.begin_read_); }

Result<void> Transaction::Begin(Statement& begin) {
  if (db_.InTransaction()) {
    // Left open by a ROLLBACK that failed in an earlier destructor: retry it, or BEGIN would
    // fail ("cannot start a transaction within a transaction") for the connection's lifetime.
    ScopedReset reset(db_.rollback_);
    WHARF_RETURN_IF_ERROR(db_.rollback_.Run());
  }
  ScopedReset reset(begin);
  WHARF_RETURN_IF_ERROR(begin.Run());
  open_ = true;
  return {};
}

Result<void> Transaction::Commit() {
  ScopedReset reset(db_.commit_);
  WHARF_RETURN_IF_ERROR(db_.commit_.Run());
  open_ = false;
  return {};
}

Transaction::~Transaction() {
  // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) make SQLite roll back by itself; a second
  // ROLLBACK would only fail with "no transaction is active".
  if (!open_ || !db_.InTransaction()) return;
  ScopedReset reset(db_.rollback_);
  // A destructor cannot report failure; the next Begin() retries the rollback.
  (void)db_.rollback_.Run();
}

}  // namespace wharf::metadata
