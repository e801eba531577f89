// Download jobs: what was asked for, and whether it waits, downloads or failed. A job's row
// exists from the request until its image is committed (ImageStore::PutAndDeleteJob removes it
// in the commit's transaction), it is cancelled, or its failure expires.
//
// Thread-safe, as every store over a Database (database.h): each method is one operation under
// the Database's lock. Errors: besides those listed, Internal with SQLite's message (see
// database.h); a failed write changes nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/metadata/database.h"

namespace wharf::metadata {

struct JobRecord {
  int64_t id = 0;    // assigned by Add, never reused
  std::string type;  // "docker" or "lxc"
  std::string name;  // canonical name as in ImageRecord
  std::string tag;
  std::string display_name;
  std::string source;  // depot asked for: "dockerhub", "appcenter", "qnap"
  std::string description;
  std::string location;
  std::string icon;
  std::string state;  // "waiting", "downloading", "failed"
  std::string error;  // for failed jobs
  int64_t created_at = 0;
  int64_t finished_at = 0;  // when it failed
};

class JobStore {
 public:
  // `db` must outlive the store.
  explicit JobStore(Database& db);
  ~JobStore();
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  // Records a new job (job.id is ignored) and returns its id, greater than every id given
  // before. Nothing stops two jobs for the same image: the queue joins duplicates.
  Result<int64_t> Add(const JobRecord& job);
  // Replaces every field of the job job.id. NotFound "no job ID" if there is none.
  Result<void> Update(const JobRecord& job);
  // Removes the job `id`. Success also when there is none (already removed).
  Result<void> Delete(int64_t id);
  // Every job, oldest (lowest id) first.
  Result<std::vector<JobRecord>> List();

 private:
  struct Impl;
  Database& db_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wharf::metadata
