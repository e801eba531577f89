// The metadata database file, its connection settings and its schema migrations. Private to the
// metadata module.
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>

#include "wharf/base/status.h"
#include "wharf/metadata/sqlite_db.h"

namespace wharf::metadata {

// The schema version Open leaves in PRAGMA user_version.
inline constexpr int kSchemaVersion = 3;

// Creates the parent directory and the file (mode 0600) if missing, opens it in WAL mode with
// synchronous=FULL and foreign keys on, and migrates the schema to kSchemaVersion. Fails on a
// file that is not SQLite and on a schema newer than this build knows.
Result<std::unique_ptr<SqliteDb>> OpenMetadataDatabase(const std::filesystem::path& file);

// The SQL that brings the schema from `version` - 1 to `version` (1..kSchemaVersion), "" for
// any other version. For tests that build a database as an older wharf left it.
std::string_view SchemaStepSql(int version);

}  // namespace wharf::metadata
