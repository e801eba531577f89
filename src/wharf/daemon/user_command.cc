#include "wharf/daemon/user_command.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "wharf/metadata/database.h"
#include "wharf/metadata/user_store.h"
#include "wharf/service/auth.h"

namespace wharf::daemon {

namespace {

// The password from stdin (first line), or typed twice at the terminal without echo.
Result<std::string> ReadPassword(bool from_stdin) {
  std::string password;
  if (from_stdin || !::isatty(STDIN_FILENO)) {
    if (!std::getline(std::cin, password)) return InvalidArgument("no password on stdin");
    return password;
  }
  termios old{};
  ::tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  std::string again;
  std::fprintf(stderr, "Password: ");
  ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::getline(std::cin, password);
  std::fprintf(stderr, "\nRepeat: ");
  std::getline(std::cin, again);
  ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::fprintf(stderr, "\n");
  if (password != again) return InvalidArgument("the passwords differ");
  return password;
}

}  // namespace

int RunUserCommand(const Config& config, const UserCommandArgs& args, std::FILE* out,
                   std::FILE* err) {
  auto fail = [&](const std::string& message) {
    std::fprintf(err, "wharfd user %s: %s\n", args.action.c_str(), message.c_str());
    return 1;
  };
  auto db = metadata::Database::Open(std::filesystem::path(config.data_dir) / "wharf.db");
  if (!db) return fail(db.error().message);
  metadata::UserStore users(**db);
  service::Auth auth(users, config.session_ttl_s);
  Result<void> done;
  if (args.action == "del") {
    done = auth.RemoveUser(args.username);
  } else {
    auto password = ReadPassword(args.password_stdin);
    if (!password) return fail(password.error().message);
    if (password->size() < 8) return fail("the password must have at least 8 characters");
    if (args.action == "add") {
      auto existing = users.GetUser(args.username);
      if (!existing) return fail(existing.error().message);
      if (*existing) return fail("user " + args.username + " exists; use passwd");
      done = auth.SetUser(args.username, *password, args.admin);
    } else {
      done = auth.ChangePassword(args.username, *password);
    }
  }
  if (!done) return fail(done.error().message);
  std::fprintf(out, "wharfd user %s: %s done\n", args.action.c_str(), args.username.c_str());
  return 0;
}

}  // namespace wharf::daemon
