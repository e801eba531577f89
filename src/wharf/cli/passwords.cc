#include "wharf/cli/passwords.h"

#include <unistd.h>

#include <iostream>

#include "wharf/cli/terminal.h"

namespace wharf::cli {

bool PasswordsFromStdin(bool from_stdin) { return from_stdin || !IsTerminal(STDIN_FILENO); }

Result<std::string> ReadStdinLine(std::string_view what) {
  std::string line;
  if (!std::getline(std::cin, line)) {
    return InvalidArgument("no " + std::string(what) + " on stdin");
  }
  if (line.ends_with('\r')) line.pop_back();
  return line;
}

Result<std::string> AskSecret(std::string_view prompt) {
  auto answer = AskTerminal(prompt, true);
  if (!answer && answer.error().code == Code::kUnavailable) {
    return InvalidArgument("no terminal to ask for the password on; use --password-stdin");
  }
  return answer;
}

Result<std::string> AskNewPassword(bool from_stdin) {
  std::string password;
  if (PasswordsFromStdin(from_stdin)) {
    WHARF_ASSIGN_OR_RETURN(password, ReadStdinLine("password"));
  } else {
    WHARF_ASSIGN_OR_RETURN(password, AskSecret("Password: "));
    WHARF_ASSIGN_OR_RETURN(auto again, AskSecret("Repeat: "));
    if (again != password) return InvalidArgument("the passwords differ");
  }
  if (password.empty()) return InvalidArgument("the password is empty");
  return password;
}

}  // namespace wharf::cli
