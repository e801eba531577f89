// `wharf inspect`, as `docker inspect` behaves: the inspect JSON of each named image in one
// array (4-space indent), or with a --format template (format_template.h) one line per image.
// A name that cannot be shown does not stop the others: they are printed, then each failure
// but the last goes to stderr and the last is returned (the server's NotFound for a missing
// one), so the exit code says what went wrong. A bad template is refused
// before anything is asked of wharfd.
#pragma once

#include <string>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/cli/api_client.h"

namespace wharf::cli {

struct InspectOptions {
  std::vector<std::string> images;  // NAME[:TAG] (TAG defaults to latest)
  bool remote = false;              // ask the registry (remote_inspect), not the local store
  std::string format;               // empty: the JSON array
};

Result<void> InspectImages(const ApiClient& api, const InspectOptions& options);

}  // namespace wharf::cli
