// Wires wharfd's parts together from a Config and runs the server until SIGINT/SIGTERM:
// opens the data directory (content store + SQLite), creates the admin user on first start,
// resumes unfinished downloads, and serves the API.
#pragma once

#include "wharf/base/status.h"
#include "wharf/daemon/config.h"

namespace wharf::daemon {

// Blocks until a termination signal. The initial admin password comes from the
// WHARF_ADMIN_PASSWORD environment variable, or is generated and printed once.
Result<void> Run(const Config& config);

}  // namespace wharf::daemon
