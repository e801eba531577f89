// A check of the connection to one registry with its current settings (HostDirectory), step by
// step, for a user who has just entered them: can it be reached, what authentication does it
// ask for, do the stored credentials log in, and can something be read. The steps, in order,
// stop at the first failure:
//   "ping"       GET /v2/ without credentials: any answer of a registry (200 or 401)
//   "challenge"  what the 401 asks for (Bearer and its token server, or Basic); none needed
//                when /v2/ answered 200
//   "login"      a token from the token server, or Basic, with the stored credentials, then
//                GET /v2/ with it; a refusal reports the status (401) here, and so do
//                credentials that may not go to the token server (MaySendCredentials)
//   "read"       GET /v2/_catalog?n=1, and the tags/list of the repository it names; or, when
//                a repository is given, its tags/list only (registries that let users pull
//                but not list, as Docker Hub: library/busybox is read there by default)
// Messages name URLs, statuses and the username, never the password.
// Thread-safe; every call makes its own connections (it caches nothing).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "wharf/registry/client.h"

namespace wharf::registry {

struct CheckStep {
  std::string step;  // "ping", "challenge", "login", "read"
  bool ok = false;
  std::string message;
};

struct CheckReport {
  bool ok = false;  // every step passed
  std::vector<CheckStep> steps;
};

// Checks `host` ("host[:port]", or "docker.io" for Options::dockerhub_registry) with the
// settings `options` give it. `cancelled` (may be unset) cuts a transfer; the step it cut then
// fails with Cancelled's message. Never fails as a whole: failures are steps.
CheckReport CheckRegistry(const Options& options, const std::string& host,
                          const std::string& repository = "",
                          const std::function<bool()>& cancelled = {});

}  // namespace wharf::registry
