#include "wharf/metadata/update_store.h"

#include <string_view>

#include "wharf/metadata/sqlite_db.h"

namespace wharf::metadata {

namespace {

// Every SELECT of a record reads these columns in this order; BindUpdate and ReadUpdate rely
// on it.
constexpr std::string_view kUpdateColumns =
    "type, name, tag, local_digest, remote_digest, update_available, checked_at, error";

void BindUpdate(Statement& statement, const UpdateRecord& r) {
  statement.Bind(r.type, r.name, r.tag, r.local_digest, r.remote_digest,
                 int64_t{r.update_available}, r.checked_at, r.error);
}

UpdateRecord ReadUpdate(const Statement& row) {
  return UpdateRecord{row.Text(0), row.Text(1),     row.Text(2), row.Text(3),
                      row.Text(4), row.Int(5) != 0, row.Int(6),  row.Text(7)};
}

}  // namespace

struct UpdateStore::Impl : StatementCache {
  Statement put;
  Statement list;
  Statement get;
  Statement remove;

  Result<void> Prepare(SqliteDb& db) override {
    const std::string select = "SELECT " + std::string(kUpdateColumns) + " FROM updates";
    return db.PrepareAll({
        // Nothing refers to an updates row, so REPLACE's delete of the old one cascades nowhere.
        {&put, "INSERT OR REPLACE INTO updates (" + std::string(kUpdateColumns) +
                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"},
        {&list, select + " ORDER BY type, name, tag"},  // BINARY collation: byte-wise
        {&get, select + " WHERE type = ? AND name = ? AND tag = ?"},
        {&remove, "DELETE FROM updates WHERE type = ?1 AND name = ?2 AND (?3 = '' OR tag = ?3)"},
    });
  }
};

UpdateStore::UpdateStore(Database& db) : db_(db), impl_(std::make_unique<Impl>()) {}

UpdateStore::~UpdateStore() { db_.Release(impl_); }

Result<void> UpdateStore::Put(const UpdateRecord& record) {
  return db_.Locked(*impl_, "UpdateStore::Put", [&](SqliteDb&) -> Result<void> {
    if (record.type.empty() || record.name.empty() || record.tag.empty()) {
      return InvalidArgument("update type, name and tag must not be empty");
    }
    ScopedReset reset(impl_->put);
    BindUpdate(impl_->put, record);
    return impl_->put.Run();
  });
}

Result<std::vector<UpdateRecord>> UpdateStore::List() {
  return db_.Locked(
      *impl_, "UpdateStore::List", [&](SqliteDb&) -> Result<std::vector<UpdateRecord>> {
        Statement& query = impl_->list;
        ScopedReset reset(query);
        std::vector<UpdateRecord> records;
        WHARF_RETURN_IF_ERROR(query.ForEachRow([&] { records.push_back(ReadUpdate(query)); }));
        return records;
      });
}

Result<std::optional<UpdateRecord>> UpdateStore::Get(const std::string& type,
                                                     const std::string& name,
                                                     const std::string& tag) {
  return db_.Locked(*impl_, "UpdateStore::Get",
                    [&](SqliteDb&) -> Result<std::optional<UpdateRecord>> {
                      Statement& query = impl_->get;
                      ScopedReset reset(query);
                      query.Bind(type, name, tag);
                      WHARF_ASSIGN_OR_RETURN(auto row, query.Step());
                      if (!row) return std::nullopt;
                      return ReadUpdate(query);
                    });
}

Result<void> UpdateStore::Delete(const std::string& type, const std::string& name,
                                 const std::string& tag) {
  return db_.Locked(*impl_, "UpdateStore::Delete",
                    [&](SqliteDb&) { return RunWith(impl_->remove, type, name, tag); });
}

}  // namespace wharf::metadata
