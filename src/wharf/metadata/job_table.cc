#include "wharf/metadata/job_table.h"

#include <string>
#include <string_view>

namespace wharf::metadata {

namespace {

// SELECTs put `id` in column 0 followed by these columns in this order; BindJob and ReadJob
// rely on it.
constexpr std::string_view kJobColumns =
    "type, name, tag, display_name, source, description, location, icon, state, error, "
    "created_at, finished_at";
constexpr int kJobColumnCount = 12;

// Binds every field but the id to parameters 1..kJobColumnCount.
void BindJob(Statement& statement, const JobRecord& job) {
  statement.Bind(job.type, job.name, job.tag, job.display_name, job.source, job.description,
                 job.location, job.icon, job.state, job.error, job.created_at, job.finished_at);
}

JobRecord ReadJob(const Statement& row) {
  JobRecord job;
  job.id = row.Int(0);
  job.type = row.Text(1);
  job.name = row.Text(2);
  job.tag = row.Text(3);
  job.display_name = row.Text(4);
  job.source = row.Text(5);
  job.description = row.Text(6);
  job.location = row.Text(7);
  job.icon = row.Text(8);
  job.state = row.Text(9);
  job.error = row.Text(10);
  job.created_at = row.Int(11);
  job.finished_at = row.Int(12);
  return job;
}

}  // namespace

Result<void> JobTable::Prepare(SqliteDb& db) {
  const std::string columns(kJobColumns);
  const std::string values = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  return db.PrepareAll({
      {&add_, "INSERT INTO jobs (" + columns + ") VALUES " + values + " RETURNING id"},
      {&update_, "UPDATE jobs SET (" + columns + ") = " + values + " WHERE id = ?"},
      {&delete_, "DELETE FROM jobs WHERE id = ?"},
      {&list_, "SELECT id, " + columns + " FROM jobs ORDER BY id"},
  });
}

Result<int64_t> JobTable::Add(const JobRecord& job) {
  ScopedReset reset(add_);
  BindJob(add_, job);
  WHARF_RETURN_IF_ERROR(add_.StepToRow());
  return add_.Int(0);
}

Result<void> JobTable::Update(SqliteDb& db, const JobRecord& job) {
  ScopedReset reset(update_);
  BindJob(update_, job);
  update_.BindAt(kJobColumnCount + 1, job.id);
  WHARF_RETURN_IF_ERROR(update_.Run());
  if (db.Changes() == 0) return NotFound("no job " + std::to_string(job.id));
  return {};
}

Result<void> JobTable::Delete(int64_t id) { return RunWith(delete_, id); }

Result<std::vector<JobRecord>> JobTable::List() {
  ScopedReset reset(list_);
  std::vector<JobRecord> jobs;
  WHARF_RETURN_IF_ERROR(list_.ForEachRow([&] { jobs.push_back(ReadJob(list_)); }));
  return jobs;
}

}  // namespace wharf::metadata
