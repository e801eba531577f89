#include "wharf/cli/terminal.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>

#include "wharf/base/unique_fd.h"

namespace wharf::cli {

namespace {

std::atomic<int> g_interrupts{0};
struct sigaction g_previous;

void OnInterrupt(int) { g_interrupts.fetch_add(1); }

winsize WindowSize(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0 || ws.ws_row == 0) {
    ws.ws_col = 80;
    ws.ws_row = 24;
  }
  return ws;
}

}  // namespace

bool IsTerminal(int fd) { return ::isatty(fd) == 1; }
int TerminalWidth(int fd) { return WindowSize(fd).ws_col; }
int TerminalHeight(int fd) { return WindowSize(fd).ws_row; }

Result<std::string> AskTerminal(std::string_view prompt, bool secret) {
  UniqueFd fd(::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY));
  if (!fd) return Unavailable("no terminal to ask on");
  termios saved{};
  bool restore = false;
  if (secret && ::tcgetattr(fd.get(), &saved) == 0) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;  // the Enter still moves to the next line
    restore = ::tcsetattr(fd.get(), TCSAFLUSH, &quiet) == 0;
  }
  (void)!::write(fd.get(), prompt.data(), prompt.size());
  std::string line;
  Result<std::string> out = line;
  for (;;) {
    char c;
    ssize_t n = ::read(fd.get(), &c, 1);
    if (n < 0 && errno == EINTR) {
      out = Cancelled("interrupted");
      break;
    }
    if (n <= 0 || c == '\n') {
      out = line;
      break;
    }
    line += c;
  }
  if (restore) {
    ::tcsetattr(fd.get(), TCSAFLUSH, &saved);
    if (!out) (void)!::write(fd.get(), "\n", 1);
  }
  if (out && !out->empty() && out->back() == '\r') out->pop_back();
  return out;
}

InterruptCatcher::InterruptCatcher() {
  g_interrupts = 0;
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking read returns EINTR
  ::sigaction(SIGINT, &sa, &g_previous);
}

InterruptCatcher::~InterruptCatcher() { ::sigaction(SIGINT, &g_previous, nullptr); }

int InterruptCatcher::TakeAll() { return g_interrupts.exchange(0); }

bool InterruptCatcher::Take() {
  int n = g_interrupts.load();
  while (n > 0) {
    if (g_interrupts.compare_exchange_weak(n, 0)) return true;
  }
  return false;
}

}  // namespace wharf::cli
