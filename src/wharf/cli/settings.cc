#include "wharf/cli/settings.h"

#include <cstdio>

#include "wharf/cli/commands.h"
#include "wharf/cli/passwords.h"
#include "wharf/cli/settings_tables.h"
#include "wharf/cli/terminal.h"

namespace wharf::cli {

namespace {

void Print(const Table& table) { std::fputs(table.Render().c_str(), stdout); }

Result<void> CheckUserName(const std::string& name) {
  if (name.empty()) return InvalidArgument("a user name is required");
  return {};
}

Result<std::string> CurrentPassword(bool from_stdin) {
  if (PasswordsFromStdin(from_stdin)) return ReadStdinLine("current password");
  return AskSecret("Current password: ");
}

// After one's own password changed: the old session is gone, so log in again.
Result<void> RenewSession(const ApiClient& api, const SessionStore& store, const Session& old,
                          const std::string& password) {
  WHARF_ASSIGN_OR_RETURN(auto reply, api.Login(old.username, password));
  return store.Save({old.server, reply.cookie, old.username, StringField(reply.body, "logintime")});
}

}  // namespace

Result<void> ListUsers(const ApiClient& api, bool json) {
  return ShowAnswer(api, "/api/v1/users", json, UsersTable);
}

Result<void> AddUser(const ApiClient& api, const UserAddOptions& o) {
  WHARF_RETURN_IF_ERROR(CheckUserName(o.name));
  InterruptCatcher catcher;  // Ctrl-C at a prompt must not leave the terminal without echo
  WHARF_ASSIGN_OR_RETURN(auto password, AskNewPassword(o.password_stdin));
  nlohmann::json body = {{"username", o.name}, {"password", password}, {"admin", o.admin}};
  WHARF_ASSIGN_OR_RETURN(auto answer, api.Call("POST", "/api/v1/users", body));
  PrintDone(answer, o.json, "Added user " + o.name + (o.admin ? " (admin)" : ""));
  return {};
}

Result<void> RemoveUser(const ApiClient& api, const std::string& name, bool json) {
  WHARF_RETURN_IF_ERROR(CheckUserName(name));
  WHARF_ASSIGN_OR_RETURN(auto answer, api.Call("DELETE", "/api/v1/users/" + EscapePath(name)));
  PrintDone(answer, json, "Removed user " + name);
  return {};
}

Result<void> ChangePassword(const ApiClient& api, const SessionStore& store,
                            const PasswordOptions& o) {
  WHARF_ASSIGN_OR_RETURN(auto session, store.Load());
  std::string name = o.name.empty() ? session.username : o.name;
  WHARF_RETURN_IF_ERROR(CheckUserName(name));
  bool own = name == session.username;
  InterruptCatcher catcher;
  nlohmann::json body = nlohmann::json::object();
  if (own) {
    WHARF_ASSIGN_OR_RETURN(auto current, CurrentPassword(o.password_stdin));
    body["current_password"] = current;
  }
  WHARF_ASSIGN_OR_RETURN(auto password, AskNewPassword(o.password_stdin));
  body["password"] = password;
  auto answer = api.Call("PUT", "/api/v1/users/" + EscapePath(name) + "/password", body);
  if (!answer && own && answer.error().message.find("current password") != std::string::npos) {
    // A 401, but logging in again would not help: not allowed, without the login hint.
    return PermissionDenied(answer.error().message);
  }
  if (!answer) return Error(answer.error());
  if (own) {
    ApiClient fresh({.server = session.server, .cookie = "", .user_agent = o.user_agent});
    WHARF_RETURN_IF_ERROR(RenewSession(fresh, store, session, password));
  }
  PrintDone(*answer, o.json, "Password changed for " + name);
  return {};
}

Result<void> ShowDiskUsage(const ApiClient& api, bool json) {
  WHARF_ASSIGN_OR_RETURN(auto usage, api.Get("/api/v1/system/df"));
  if (json) {
    PrintJson(usage);
    return {};
  }
  std::printf("Images:\n");
  Print(DiskUsageImagesTable(usage));
  std::printf("\nStore:\n");
  Print(DiskUsageTotalsTable(usage));
  return {};
}

}  // namespace wharf::cli
