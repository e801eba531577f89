// Where wharfd listens, as its user sets and reads it: the address given outside the
// configuration file (--listen, else WHARF_LISTEN), the page's URL in the start-up line,
// and, when the address cannot be bound, which settings choose another one. Functions of
// their arguments (GivenListen also reads the environment), safe from any thread.
#pragma once

#include <string>

namespace wharf::daemon {

// The listen address that overrides the file's `listen`: `flag` (--listen's value) when it is
// not empty, else the WHARF_LISTEN environment variable when set and not empty, else an
// empty value. `origin` names where it came from ("--listen", "WHARF_LISTEN", "").
struct GivenAddress {
  std::string value;
  const char* origin = "";
};
GivenAddress GivenListen(const std::string& flag);

// "http://HOST:PORT/" ("https" when `tls`), an IPv6 literal in brackets ("http://[::1]:8080/").
std::string PageUrl(bool tls, const std::string& host, int port);

// True for the addresses that mean every interface: "", "0.0.0.0", "::" (and "[::]").
bool IsWildcardHost(const std::string& host);

// The start-up log line: "wharfd listening on URL (the web page; the API under /api/v1/)".
// For a wildcard host it says so, and points at URL-with-this-machine's-address, giving the
// loopback URL for this machine.
std::string ListeningLine(bool tls, const std::string& host, int port);

// Appended to an error binding the listen address: where that address is set (`listen` in
// the configuration file, --listen, WHARF_LISTEN, `make run LISTEN=`), in precedence order.
std::string ListenSettingsHint();

}  // namespace wharf::daemon
