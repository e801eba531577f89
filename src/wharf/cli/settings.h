// `wharf user ls|add|rm|passwd` and `wharf df`: the users who may log in and the store's disk
// usage, through wharfd's settings routes (README, API reference). Each prints its result on
// stdout (a table or a line, or with `json` the API's JSON) and returns its error for Main to
// report. Passwords are read as passwords.h says, never taken from the command line.
#pragma once

#include <string>

#include "wharf/base/status.h"
#include "wharf/cli/api_client.h"
#include "wharf/cli/session_store.h"

namespace wharf::cli {

Result<void> ListUsers(const ApiClient& api, bool json);  // admin only (the server says 403)

struct UserAddOptions {
  std::string name;
  bool admin = false;
  bool password_stdin = false;
  bool json = false;
};
Result<void> AddUser(const ApiClient& api, const UserAddOptions& options);

// Removes the user and ends their sessions; the last admin cannot go (409 from the server).
Result<void> RemoveUser(const ApiClient& api, const std::string& name, bool json);

struct PasswordOptions {
  std::string name;  // empty: the session's own user
  bool password_stdin = false;
  bool json = false;
  std::string user_agent;
};
// Changes a password. Another user's (admin): the new password, from a line of stdin or
// asked twice on the terminal. One's own: the current password first (a first line of stdin,
// or asked), then the new one; since the change ends every session of the user, the CLI then
// logs in again with the new password and saves that session.
Result<void> ChangePassword(const ApiClient& api, const SessionStore& store,
                            const PasswordOptions& options);

// `wharf df`: the images table and the store's totals (settings_tables.h).
Result<void> ShowDiskUsage(const ApiClient& api, bool json);

}  // namespace wharf::cli
