// What the last update check found for each local Docker tag (and LXC image): one record per
// (type, name, tag), so that the results and the time of the last check survive a restart.
// A record is independent of the image it describes: deleting the image leaves it, to be
// ignored or forgotten (Delete) by whoever checks.
//
// Thread-safe, as every store over a Database (database.h): each method is one operation under
// the Database's lock. Errors: besides those listed, Internal with SQLite's message (see
// database.h); a failed write changes nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/metadata/database.h"

namespace wharf::metadata {

struct UpdateRecord {
  std::string type;  // "docker" or "lxc"
  std::string name;  // canonical, as ImageRecord::name
  std::string tag;
  std::string local_digest;  // what the local tag resolved to when it was checked (its repo digest)
  std::string
      remote_digest;  // what the tag resolves to at its registry (top-level: index or manifest)
  bool update_available = false;
  int64_t checked_at = 0;  // epoch seconds
  std::string error;       // the check's error, "" when it succeeded
};

class UpdateStore {
 public:
  // `db` must outlive the store.
  explicit UpdateStore(Database& db);
  ~UpdateStore();
  UpdateStore(const UpdateStore&) = delete;
  UpdateStore& operator=(const UpdateStore&) = delete;

  // Records the check of (type, name, tag), replacing the previous one. InvalidArgument when
  // type, name or tag is empty (an empty tag would be unreachable: Delete reads it as "every
  // tag").
  Result<void> Put(const UpdateRecord& record);
  // Every record, by type, name, tag (byte-wise).
  Result<std::vector<UpdateRecord>> List();
  // The record of (type, name, tag); none when never checked (so always for an empty type,
  // name or tag, which Put refuses).
  Result<std::optional<UpdateRecord>> Get(const std::string& type, const std::string& name,
                                          const std::string& tag);
  // Forgets (type, name, tag), or every tag of (type, name) when tag is empty. Success also
  // when there is none.
  Result<void> Delete(const std::string& type, const std::string& name, const std::string& tag);

 private:
  struct Impl;
  Database& db_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wharf::metadata
