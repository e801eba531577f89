#include "wharf/metadata/metadata_schema.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <iterator>
#include <string>
#include <string_view>

#include "wharf/base/file_util.h"

namespace wharf::metadata {

namespace fs = std::filesystem;

namespace {

// --- Schema ---
//
// Each step brings the schema from version - 1 to `version` and is never edited once released.
// To add version N, append {N, "ALTER TABLE ...; ..."} and bump kSchemaVersion; Migrate() applies
// every missing step in one transaction and records the result in PRAGMA user_version.

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE images (
  id INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  name TEXT NOT NULL,
  tag TEXT NOT NULL,
  display_name TEXT NOT NULL,
  manifest_digest TEXT NOT NULL,
  manifest_media_type TEXT NOT NULL,
  manifest_size INTEGER NOT NULL,
  config_digest TEXT NOT NULL,
  architecture TEXT NOT NULL,
  os TEXT NOT NULL,
  size INTEGER NOT NULL,
  description TEXT NOT NULL,
  location TEXT NOT NULL,
  icon TEXT NOT NULL,
  extra TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (type, name, tag)
);
CREATE TABLE image_blobs (
  image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  digest TEXT NOT NULL,
  PRIMARY KEY (image_id, digest)
) WITHOUT ROWID;
CREATE INDEX image_blobs_by_digest ON image_blobs (digest);
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  name TEXT NOT NULL,
  tag TEXT NOT NULL,
  display_name TEXT NOT NULL,
  source TEXT NOT NULL,
  description TEXT NOT NULL,
  location TEXT NOT NULL,
  icon TEXT NOT NULL,
  state TEXT NOT NULL,
  error TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL
);
CREATE TABLE users (
  username TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  is_admin INTEGER NOT NULL
);
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_username ON sessions (username);
)sql";

// What the last update check found for each local tag. No foreign key to images: a record may
// outlive its image's delete, and is then ignored or forgotten by whoever checks.
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE updates (
  type TEXT NOT NULL,
  name TEXT NOT NULL,
  tag TEXT NOT NULL,
  local_digest TEXT NOT NULL,
  remote_digest TEXT NOT NULL,
  update_available INTEGER NOT NULL,
  checked_at INTEGER NOT NULL,
  error TEXT NOT NULL,
  PRIMARY KEY (type, name, tag)
) WITHOUT ROWID;
)sql";

// Registries set through the API (the configuration file's are not stored), and the Docker Hub
// mirrors added the same way, in the order they are tried. The database file is 0600: the
// passwords must be sent to the registries, so they are kept as given.
constexpr std::string_view kSchemaV3 = R"sql(
CREATE TABLE registries (
  host TEXT PRIMARY KEY,
  insecure INTEGER NOT NULL,
  ca_pem TEXT NOT NULL,
  username TEXT NOT NULL,
  password TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE registry_mirrors (
  position INTEGER PRIMARY KEY,
  url TEXT NOT NULL
);
)sql";

struct Migration {
  int version;
  std::string_view sql;
};

constexpr Migration kMigrations[] = {
    {1, kSchemaV1},
    {2, kSchemaV2},
    {3, kSchemaV3},
};

static_assert(std::size(kMigrations) == kSchemaVersion, "one migration step per version");

// Prepares and runs a one-off query (used only while opening); the result is on its first row.
Result<Statement> QueryRow(SqliteDb& db, std::string_view sql) {
  auto statement = db.Prepare(sql);
  if (!statement) return Error(statement.error());
  WHARF_RETURN_IF_ERROR(statement->StepToRow());
  return statement;
}

// Column 0 of a one-off query's first row, as an integer; the statement is finalized on return.
Result<int64_t> QueryInt(SqliteDb& db, std::string_view sql) {
  WHARF_ASSIGN_OR_RETURN(auto row, QueryRow(db, sql));
  return row.Int(0);
}

// Creates the parent directory and an empty database file readable only by its owner (it
// holds password hashes). SQLite gives its -wal and -shm files the same mode.
Result<void> CreateDatabaseFile(const fs::path& file) {
  fs::path dir = file.parent_path();
  if (!dir.empty()) WHARF_RETURN_IF_ERROR(MakeDirs(dir));
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return {};
    return ErrnoError("create " + file.string(), errno);
  }
  ::close(fd);
  // SQLite syncs the directory when it creates its journal files but not for the database
  // file itself, which it expects to exist; make its directory entry durable here.
  return FsyncDir(dir.empty() ? fs::path(".") : dir);
}

Result<void> ConfigureConnection(SqliteDb& db) {
  // The first statement to read the file: a file that is not SQLite fails here.
  WHARF_ASSIGN_OR_RETURN(auto journal_mode, QueryRow(db, "PRAGMA journal_mode = WAL"));
  if (std::string mode = journal_mode.Text(0); mode != "wal") {
    return Internal("cannot enable WAL (journal_mode is " + mode + ")");
  }
  // FULL syncs the WAL at every commit: a committed image survives a power cut. (NORMAL would
  // only guarantee consistency, possibly losing the last commits.)
  WHARF_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON"));
  WHARF_ASSIGN_OR_RETURN(auto foreign_keys, QueryInt(db, "PRAGMA foreign_keys"));
  if (foreign_keys != 1) return Internal("this SQLite cannot enforce foreign keys");
  return {};
}

// Applies every missing schema step in one write transaction. The version is read inside the
// transaction so that two processes opening a fresh file do not both create the tables.
Result<void> Migrate(SqliteDb& db) {
  Transaction txn(db);
  WHARF_RETURN_IF_ERROR(txn.BeginWrite());
  WHARF_ASSIGN_OR_RETURN(auto user_version, QueryInt(db, "PRAGMA user_version"));
  const int64_t version = user_version;
  if (version > kSchemaVersion) {
    return Internal("schema version " + std::to_string(version) +
                    " is newer than this wharf supports (" + std::to_string(kSchemaVersion) + ")");
  }
  if (version == kSchemaVersion) return {};
  for (const Migration& step : kMigrations) {
    if (step.version <= version) continue;
    WHARF_RETURN_IF_ERROR(db.Exec(step.sql));
    WHARF_RETURN_IF_ERROR(db.Exec("PRAGMA user_version = " + std::to_string(step.version)));
  }
  return txn.Commit();
}

}  // namespace

std::string_view SchemaStepSql(int version) {
  for (const Migration& step : kMigrations) {
    if (step.version == version) return step.sql;
  }
  return {};
}

Result<std::unique_ptr<SqliteDb>> OpenMetadataDatabase(const fs::path& file) {
  WHARF_RETURN_IF_ERROR(CreateDatabaseFile(file));
  auto db = SqliteDb::Open(file);
  if (!db) return Error(db.error());
  WHARF_RETURN_IF_ERROR(ConfigureConnection(**db));
  WHARF_RETURN_IF_ERROR(Migrate(**db));
  return db;
}

}  // namespace wharf::metadata
