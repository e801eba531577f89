#include "wharf/daemon/listen_url.h"

#include <cstdlib>

namespace wharf::daemon {

namespace {

std::string Bracketed(const std::string& host) {
  if (host.find(':') != std::string::npos && host.front() != '[') return "[" + host + "]";
  return host;
}

}  // namespace

GivenAddress GivenListen(const std::string& flag) {
  if (!flag.empty()) return {flag, "--listen"};
  const char* env = std::getenv("WHARF_LISTEN");
  if (env != nullptr && *env != '\0') return {env, "WHARF_LISTEN"};
  return {};
}

std::string PageUrl(bool tls, const std::string& host, int port) {
  return std::string(tls ? "https" : "http") + "://" + Bracketed(host) + ":" +
         std::to_string(port) + "/";
}

bool IsWildcardHost(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]";
}

std::string ListeningLine(bool tls, const std::string& host, int port) {
  if (!IsWildcardHost(host)) {
    return "wharfd listening on " + PageUrl(tls, host, port) +
           " (the web page; the API under /api/v1/)";
  }
  const bool v4 = host == "0.0.0.0";
  const std::string loopback = v4 ? "127.0.0.1" : "::1";
  return "wharfd listening on every " + std::string(v4 ? "IPv4 " : "") + "address (" +
         (host.empty() ? std::string("*") : host) + "), port " + std::to_string(port) + ": open " +
         PageUrl(tls, "HOST", port) +
         " with this machine's address on your network for the web page (" +
         PageUrl(tls, loopback, port) + " from this machine; the API under /api/v1/)";
}

std::string ListenSettingsHint() {
  return "choose another HOST:PORT with --listen, the WHARF_LISTEN environment variable, or "
         "`listen` in the configuration file (in that order of precedence; `make run "
         "LISTEN=HOST:PORT` passes --listen)";
}

}  // namespace wharf::daemon
