#include "wharf/metadata/registry_store.h"

#include <string_view>

#include "wharf/metadata/sqlite_db.h"

namespace wharf::metadata {

namespace {

// Every SELECT of a record reads these columns in this order; ReadRegistry relies on it.
constexpr std::string_view kRegistryColumns =
    "host, insecure, ca_pem, username, password, updated_at";

RegistryRecord ReadRegistry(const Statement& row) {
  return RegistryRecord{row.Text(0), row.Int(1) != 0, row.Text(2),
                        row.Text(3), row.Text(4),     row.Int(5)};
}

}  // namespace

struct RegistryStore::Impl : StatementCache {
  Statement put;
  Statement list;
  Statement get;
  Statement remove;
  Statement mirrors;
  Statement clear_mirrors;
  Statement add_mirror;

  Result<void> Prepare(SqliteDb& db) override {
    const std::string select = "SELECT " + std::string(kRegistryColumns) + " FROM registries";
    return db.PrepareAll({
        {&put, "INSERT OR REPLACE INTO registries (" + std::string(kRegistryColumns) +
                   ") VALUES (?, ?, ?, ?, ?, ?)"},
        {&list, select + " ORDER BY host"},  // BINARY collation: byte-wise
        {&get, select + " WHERE host = ?"},
        {&remove, "DELETE FROM registries WHERE host = ?"},
        {&mirrors, "SELECT url FROM registry_mirrors ORDER BY position"},
        {&clear_mirrors, "DELETE FROM registry_mirrors"},
        {&add_mirror, "INSERT INTO registry_mirrors (position, url) VALUES (?, ?)"},
    });
  }
};

RegistryStore::RegistryStore(Database& db) : db_(db), impl_(std::make_unique<Impl>()) {}

RegistryStore::~RegistryStore() { db_.Release(impl_); }

Result<void> RegistryStore::Put(const RegistryRecord& r) {
  return db_.Locked(*impl_, "RegistryStore::Put", [&](SqliteDb&) -> Result<void> {
    if (r.host.empty()) return InvalidArgument("registry host must not be empty");
    return RunWith(impl_->put, r.host, int64_t{r.insecure}, r.ca_pem, r.username, r.password,
                   r.updated_at);
  });
}

Result<std::vector<RegistryRecord>> RegistryStore::List() {
  return db_.Locked(
      *impl_, "RegistryStore::List", [&](SqliteDb&) -> Result<std::vector<RegistryRecord>> {
        Statement& query = impl_->list;
        ScopedReset reset(query);
        std::vector<RegistryRecord> records;
        WHARF_RETURN_IF_ERROR(query.ForEachRow([&] { records.push_back(ReadRegistry(query)); }));
        return records;
      });
}

Result<std::optional<RegistryRecord>> RegistryStore::Get(const std::string& host) {
  return db_.Locked(*impl_, "RegistryStore::Get",
                    [&](SqliteDb&) -> Result<std::optional<RegistryRecord>> {
                      Statement& query = impl_->get;
                      ScopedReset reset(query);
                      query.Bind(host);
                      WHARF_ASSIGN_OR_RETURN(bool row, query.Step());
                      if (!row) return std::nullopt;
                      return ReadRegistry(query);
                    });
}

Result<bool> RegistryStore::Delete(const std::string& host) {
  return db_.Locked(*impl_, "RegistryStore::Delete", [&](SqliteDb& db) -> Result<bool> {
    WHARF_RETURN_IF_ERROR(RunWith(impl_->remove, host));
    return db.Changes() > 0;
  });
}

Result<std::vector<std::string>> RegistryStore::Mirrors() {
  return db_.Locked(
      *impl_, "RegistryStore::Mirrors", [&](SqliteDb&) -> Result<std::vector<std::string>> {
        Statement& query = impl_->mirrors;
        ScopedReset reset(query);
        std::vector<std::string> urls;
        WHARF_RETURN_IF_ERROR(query.ForEachRow([&] { urls.push_back(query.Text(0)); }));
        return urls;
      });
}

Result<void> RegistryStore::SetMirrors(const std::vector<std::string>& urls) {
  return db_.Locked(*impl_, "RegistryStore::SetMirrors", [&](SqliteDb& db) -> Result<void> {
    Transaction txn(db);
    WHARF_RETURN_IF_ERROR(txn.BeginWrite());
    {
      ScopedReset reset(impl_->clear_mirrors);
      WHARF_RETURN_IF_ERROR(impl_->clear_mirrors.Run());
    }
    for (size_t i = 0; i < urls.size(); ++i) {
      WHARF_RETURN_IF_ERROR(RunWith(impl_->add_mirror, static_cast<int64_t>(i), urls[i]));
    }
    return txn.Commit();
  });
}

}  // namespace wharf::metadata
