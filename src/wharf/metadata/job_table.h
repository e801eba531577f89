// The statements over the jobs table, private to the metadata module: JobStore runs them, and
// ImageStore runs them inside its own transactions where a write spans images and jobs.
// Not thread-safe: used under the Database's lock.
#pragma once

#include <cstdint>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/metadata/job_store.h"
#include "wharf/metadata/sqlite_db.h"

namespace wharf::metadata {

class JobTable {
 public:
  Result<void> Prepare(SqliteDb& db);

  // Inserts every field but job.id and returns the id the row got.
  Result<int64_t> Add(const JobRecord& job);
  // Writes every field of the row job.id; NotFound "no job ID" if there is none.
  Result<void> Update(SqliteDb& db, const JobRecord& job);
  // Deletes the row `id`; success also when there is none.
  Result<void> Delete(int64_t id);
  // Every row, by id.
  Result<std::vector<JobRecord>> List();

 private:
  Statement add_;
  Statement update_;
  Statement delete_;
  Statement list_;
};

}  // namespace wharf::metadata
