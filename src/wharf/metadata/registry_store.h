// The registries set through the API (host, TLS settings, credentials) and the Docker Hub
// mirrors added the same way, so that they survive a restart. Those of the configuration file
// are not kept here. Passwords are stored as given (they must be sent to the registry); the
// database file is readable by its owner only.
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

struct RegistryRecord {
  std::string host;  // "host[:port]", as the API was given it (validated there)
  bool insecure = false;
  std::string ca_pem;  // "" = none
  std::string username;
  std::string password;
  int64_t updated_at = 0;  // epoch seconds
};

class RegistryStore {
 public:
  // `db` must outlive the store.
  explicit RegistryStore(Database& db);
  ~RegistryStore();
  RegistryStore(const RegistryStore&) = delete;
  RegistryStore& operator=(const RegistryStore&) = delete;

  // Adds the record, or replaces every field of the one with its host. InvalidArgument for an
  // empty host.
  Result<void> Put(const RegistryRecord& record);
  // Every record, by host (byte-wise).
  Result<std::vector<RegistryRecord>> List();
  // The record of `host`, if any.
  Result<std::optional<RegistryRecord>> Get(const std::string& host);
  // Forgets `host`: false when there was no record of it.
  Result<bool> Delete(const std::string& host);

  // The mirrors, in order.
  Result<std::vector<std::string>> Mirrors();
  // Replaces the mirrors with `urls` (in this order), in one transaction.
  Result<void> SetMirrors(const std::vector<std::string>& urls);

 private:
  struct Impl;
  Database& db_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wharf::metadata
