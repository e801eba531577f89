// `wharf registry ls|set|rm|test`: the registries wharfd knows (its configuration file's,
// read-only, and those set through the API, stored by wharfd and used at once), through
// /api/v1/registries (README, API reference). Each prints its result on stdout (a table or
// a line, or with `json` the API's JSON) and returns its error for Main to report. The
// registry's password is read as passwords.h says and never printed.
#pragma once

#include <string>

#include "wharf/base/status.h"
#include "wharf/cli/api_client.h"

namespace wharf::cli {

Result<void> ListRegistries(const ApiClient& api, bool json);

struct RegistrySetOptions {
  std::string host;             // "registry.example.com:5000"
  std::string username;         // empty: no credentials
  bool password_stdin = false;  // else asked on the terminal when there is a username
  bool insecure = false;        // plain HTTP or an unverified certificate
  std::string ca_file;          // a PEM file of the CA to trust for this host
  bool json = false;
};
// PUT /api/v1/registries/HOST with the entry. InvalidArgument when the CA file cannot be
// read or is not PEM, or a password is given without a username.
Result<void> SetRegistry(const ApiClient& api, const RegistrySetOptions& options);

Result<void> RemoveRegistry(const ApiClient& api, const std::string& host, bool json);

// Runs wharfd's connection test of the host and prints its steps; Unavailable naming the
// failed step when the test did not pass.
Result<void> TestRegistry(const ApiClient& api, const std::string& host, bool json);

}  // namespace wharf::cli
