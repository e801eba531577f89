// Passwords the CLI asks for: from stdin (one line each, for scripts) or on the terminal
// without echo. A password never goes on the command line, where `ps` and shell histories
// keep it.
#pragma once

#include <string>
#include <string_view>

#include "wharf/base/status.h"

namespace wharf::cli {

// Where a password comes from: `from_stdin` (--password-stdin) or stdin when it is not a
// terminal; otherwise the terminal.
bool PasswordsFromStdin(bool from_stdin);

// One line of stdin, its "\n" or "\r\n" dropped; InvalidArgument naming `what` at the end of
// the input.
Result<std::string> ReadStdinLine(std::string_view what);

// Asks `prompt` on the terminal without echo. InvalidArgument "no terminal ... use
// --password-stdin" when there is none; Cancelled on Ctrl-C (an InterruptCatcher must live).
Result<std::string> AskSecret(std::string_view prompt);

// A new password: a line of stdin when PasswordsFromStdin(from_stdin), else asked twice on
// the terminal ("Password: ", "Repeat: "); InvalidArgument when the two differ or it is
// empty.
Result<std::string> AskNewPassword(bool from_stdin);

}  // namespace wharf::cli
