// The CLI's exit codes, one per kind of failure, so scripts can tell them apart. The table is
// part of the CLI's contract (README.md, "CLI reference").
#pragma once

#include "wharf/base/status.h"

namespace wharf::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,        // server error (5xx, 502), network failure, failed download
  kExitUsage = 2,        // bad flags or arguments; a 400 from the server
  kExitAuth = 3,         // not logged in, 401, 403
  kExitNotFound = 4,     // 404
  kExitConflict = 5,     // 409
  kExitCancelled = 130,  // a pull the user cancelled with Ctrl-C (128 + SIGINT)
};

inline int ExitCodeFor(Code code) {
  switch (code) {
    case Code::kOk:
      return kExitOk;
    case Code::kInvalidArgument:
      return kExitUsage;
    case Code::kUnauthenticated:
    case Code::kPermissionDenied:
      return kExitAuth;
    case Code::kNotFound:
      return kExitNotFound;
    case Code::kConflict:
      return kExitConflict;
    case Code::kCancelled:
      return kExitCancelled;
    default:
      return kExitError;
  }
}

}  // namespace wharf::cli
