// Registries: the per-host settings (TLS, CA, credentials) and Docker Hub mirrors that users
// set through the API. They are stored in the metadata database (RegistryStore) and put into
// the registry module's live HostDirectory, so that the next request to the host uses them,
// without a restart. Entries of the configuration file are listed read-only and win: a PUT or
// DELETE of such a host is Conflict. A CA given as PEM is checked and written to a private file
// (mode 0600, in a 0700 directory; temp file, fsync, rename) that the host's requests trust.
// Passwords are write-only: nothing here returns or logs them.
//
// Errors: InvalidArgument naming the field ("host", "ca_pem", "password", "mirrors[1]"),
// Conflict for a configuration entry, NotFound for a DELETE of a host without API settings,
// Internal for the store or the disk (then nothing changed in the directory).
// Thread-safe: changes are serialised; reads may run at any time.
#pragma once

#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "wharf/base/clock.h"
#include "wharf/base/status.h"
#include "wharf/metadata/registry_store.h"
#include "wharf/registry/client.h"
#include "wharf/registry/registry_check.h"

namespace wharf::service {

// What GET /api/v1/registries shows of an entry (never the password).
struct RegistryView {
  std::string host;
  bool insecure = false;
  bool ca = false;           // a CA (file or PEM) is set
  bool credentials = false;  // a username is set
  std::string username;
  std::string source;  // "config" or "api"
};

// A PUT of a host's settings. An absent password keeps the stored one if the username is the
// stored one (so that other settings can be changed without typing it again); otherwise it
// means none.
struct RegistrySettings {
  bool insecure = false;
  std::string ca_pem;  // "" = none
  std::string username;
  std::optional<std::string> password;
};

struct MirrorView {
  std::string url;
  std::string source;  // "config" or "api"
};

// InvalidArgument "host: ..." unless `host` is host[:port]: a DNS name, an IPv4 address or a
// bracketed IPv6 address, with a port of 1..65535.
Result<void> CheckRegistryHost(const std::string& host);

class Registries {
 public:
  // `store` and `directory` must outlive this; CA files go into `ca_dir` (created on first
  // use). `check_options` are those of the registry clients (with `directory` set), for Test.
  Registries(metadata::RegistryStore& store, registry::HostDirectory& directory,
             std::filesystem::path ca_dir, registry::Options check_options,
             Clock& clock = Clock::Default());

  // Puts the stored entries and mirrors into the directory (their CA files written again).
  // Once, at start. A stored entry of a host the configuration now sets is kept but shadowed.
  Result<void> Load();

  // Every entry, by host.
  std::vector<RegistryView> List() const;
  // Adds or replaces the API settings of `host`; they take effect at once.
  Result<RegistryView> Put(const std::string& host, const RegistrySettings& settings);
  // Removes them.
  Result<void> Remove(const std::string& host);
  // Checks the connection to `host` with its settings now (registry_check.h), reading
  // `repository` ("" = the catalog's first). Only the host's or the repository's syntax is an
  // error ("repository: ...").
  Result<registry::CheckReport> Test(const std::string& host, const std::string& repository,
                                     const std::function<bool()>& cancelled);

  // The mirrors in the order they are tried: the configuration's, then the API's.
  std::vector<MirrorView> Mirrors() const;
  // Replaces the API's mirrors (http:// or https:// URLs; one the configuration lists is
  // dropped as already there; duplicates refused) and answers Mirrors().
  Result<std::vector<MirrorView>> SetMirrors(const std::vector<std::string>& urls);

 private:
  std::filesystem::path CaFile(const std::string& host, const std::string& pem) const;
  // Removes the CA files of `host` but `keep` ("" = all).
  void ForgetCaFiles(const std::string& host, const std::string& keep) const;
  Result<registry::HostOptions> Apply(const metadata::RegistryRecord& record);

  metadata::RegistryStore& store_;
  registry::HostDirectory& directory_;
  const std::filesystem::path ca_dir_;
  const registry::Options check_options_;
  Clock& clock_;
  std::mutex mu_;  // one change at a time: store, CA file and directory agree
};

}  // namespace wharf::service
