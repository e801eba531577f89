#include "wharf/metadata/job_store.h"

#include "wharf/metadata/job_table.h"
#include "wharf/metadata/sqlite_db.h"

namespace wharf::metadata {

struct JobStore::Impl : StatementCache {
  JobTable jobs;

  Result<void> Prepare(SqliteDb& db) override { return jobs.Prepare(db); }
};

JobStore::JobStore(Database& db) : db_(db), impl_(std::make_unique<Impl>()) {}

JobStore::~JobStore() { db_.Release(impl_); }

Result<int64_t> JobStore::Add(const JobRecord& job) {
  return db_.Locked(*impl_, "JobStore::Add", [&](SqliteDb&) { return impl_->jobs.Add(job); });
}

Result<void> JobStore::Update(const JobRecord& job) {
  return db_.Locked(*impl_, "JobStore::Update",
                    [&](SqliteDb& db) { return impl_->jobs.Update(db, job); });
}

Result<void> JobStore::Delete(int64_t id) {
  return db_.Locked(*impl_, "JobStore::Delete", [&](SqliteDb&) { return impl_->jobs.Delete(id); });
}

Result<std::vector<JobRecord>> JobStore::List() {
  return db_.Locked(*impl_, "JobStore::List", [&](SqliteDb&) { return impl_->jobs.List(); });
}

}  // namespace wharf::metadata
