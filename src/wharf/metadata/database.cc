#include "wharf/metadata/database.h"

#include <vector>

#include "wharf/metadata/metadata_schema.h"
#include "wharf/metadata/sqlite_db.h"

namespace wharf::metadata {

Result<std::unique_ptr<Database>> Database::Open(const std::filesystem::path& file) {
  auto db = OpenMetadataDatabase(file);
  if (!db) {
    return Fail(db.error().code,
                "open metadata database " + file.string() + ": " + db.error().message);
  }
  return std::unique_ptr<Database>(new Database(std::move(*db)));
}

Database::Database(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}

Database::~Database() = default;

Result<bool> Database::IntegrityOk() {
  struct NoCachedStatements {
    Result<void> PrepareOnce(SqliteDb&) { return {}; }
  } none;
  return Locked(none, "IntegrityOk", [](SqliteDb& db) -> Result<bool> {
    auto check = db.Prepare("PRAGMA integrity_check");  // once per call: only fsck runs it
    if (!check) return Error(check.error());
    std::vector<std::string> problems;
    WHARF_RETURN_IF_ERROR(check->ForEachRow([&] { problems.push_back(check->Text(0)); }));
    return problems.size() == 1 && problems.front() == "ok";
  });
}

}  // namespace wharf::metadata
