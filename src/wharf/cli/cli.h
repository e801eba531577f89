// The `wharf` command-line client: a program separate from the daemon that drives wharfd's
// HTTP API (login, ls, search, tags, pull with live progress, status, inspect, rm, save,
// load, outdated, update) the way docker and podman feel from a terminal.
//
// The CLI is a client, not a part of the daemon: its HTTP client is its own (libcurl, in
// api_client.h) and it links no daemon module other than base. That is why curl.h appears
// here as well as in `registry`.
//
// Exit codes (documented in README.md, stable for scripts):
//   0 success; 1 server or network error (5xx, 502, unreachable, a failed download);
//   2 usage error (bad flags or arguments, or a 400 from the server);
//   3 authentication (no saved session, 401, 403); 4 not found (404); 5 conflict (409);
//   130 a pull (or an update's download) cancelled with Ctrl-C.
#pragma once

#include <string_view>

namespace wharf::cli {

// Parses argv, runs one command, prints its output and returns the process exit code.
// Every error is reported as one line "wharf: ..." on stderr.
int Main(int argc, char** argv, std::string_view version);

}  // namespace wharf::cli
