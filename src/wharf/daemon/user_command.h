// `wharfd user add|passwd|del NAME`: user management on the data directory's database. Safe
// while wharfd runs (SQLite serialises the writes); a password change or a removal ends the
// user's sessions at once.
#pragma once

#include <cstdio>
#include <string>

#include "wharf/daemon/config.h"

namespace wharf::daemon {

struct UserCommandArgs {
  std::string action;  // "add", "passwd" or "del"
  std::string username;
  bool admin = false;           // add: the user may download and delete
  bool password_stdin = false;  // read the password from the first line of stdin
};

// Returns the process exit code: 0 done, 1 failed (message on `err`).
int RunUserCommand(const Config& config, const UserCommandArgs& args, std::FILE* out,
                   std::FILE* err);

}  // namespace wharf::daemon
