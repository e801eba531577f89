// The terminal the CLI talks to: whether output is one, its size, questions asked on it
// (with or without echo), and Ctrl-C turned into a flag the pull loop polls.
#pragma once

#include <string>
#include <string_view>

#include "wharf/base/status.h"

namespace wharf::cli {

bool IsTerminal(int fd);
// Columns and rows of the terminal on `fd`; 80x24 when unknown.
int TerminalWidth(int fd);
int TerminalHeight(int fd);

// Writes `prompt` to the controlling terminal (/dev/tty) and reads one line from it, without
// echo when `secret`. The line's end is stripped. Unavailable when there is no terminal;
// Cancelled when Ctrl-C interrupts the read (an InterruptCatcher must be active for that,
// otherwise the process dies as usual, with echo restored by no one).
Result<std::string> AskTerminal(std::string_view prompt, bool secret);

// While one lives, SIGINT does not kill the process: it is counted, and blocking reads
// return EINTR. Not reentrant: one at a time.
class InterruptCatcher {
 public:
  InterruptCatcher();
  ~InterruptCatcher();
  InterruptCatcher(const InterruptCatcher&) = delete;
  InterruptCatcher& operator=(const InterruptCatcher&) = delete;

  // True once per Ctrl-C pressed since the last call.
  static bool Take();
  // How many Ctrl-C were pressed since the last call (of either), and forgets them.
  static int TakeAll();
};

}  // namespace wharf::cli
