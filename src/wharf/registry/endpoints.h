// Where a reference's registry lives and how to reach it: the base URL (choosing between https
// and http for hosts that allow plain HTTP), per-host settings, and requests pre-filled with
// the timeouts and TLS settings of their host. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/registry/client.h"
#include "wharf/registry/http_transfer.h"

namespace wharf::registry {

// True for localhost, 127.0.0.0/8 and [::1], with or without a port.
bool IsLoopbackHost(std::string_view host_port);

class Endpoints {
 public:
  // Per-host settings and mirrors come from options.directory, or from a directory of
  // options.hosts and options.mirrors when it is unset. `options` must outlive this.
  explicit Endpoints(const Options& options);

  const Options& options() const { return options_; }
  // The live source of the settings; subscribe to it to drop what is cached per host.
  HostDirectory& directory() const { return *directory_; }
  // The docker.io mirrors to try, in order, as they are now.
  std::vector<std::string> Mirrors() const { return directory_->Mirrors(); }

  // The Options::hosts key of a reference domain: the domain itself, but for "docker.io" the
  // host[:port] of Options::dockerhub_registry (credentials follow the server that gets them).
  std::string HostKey(std::string_view domain) const;
  // The settings for a host[:port] key as they are now; defaults when it is not configured.
  // Settings under "docker.io" apply to registry-1.docker.io (Docker Hub itself, not a mirror).
  HostOptions Host(std::string_view host_key) const;

  // "https://host[:port]" for a domain, "http://..." for an insecure or loopback host that does
  // not speak TLS there (probed once per host and remembered until its settings change; a probe
  // that cannot connect at all is not remembered), and Options::dockerhub_registry for docker.io.
  // The probe polls `cancelled` (may be unset); a cancelled probe is not remembered either.
  std::string BaseUrl(std::string_view domain, const std::function<bool()>& cancelled = {});

  // A GET of `url` with the options' timeouts and user agent and the TLS settings of the
  // URL's host; `peer` names the other end in errors.
  HttpRequest NewRequest(std::string url, std::string peer) const;

 private:
  // Chooses "https" or "http" for a host that allows plain HTTP.
  std::string NegotiateScheme(const std::string& host_key, const std::function<bool()>& cancelled);

  const Options& options_;
  std::shared_ptr<HostDirectory> directory_;
  std::mutex mu_;
  std::map<std::string, std::string> scheme_by_host_;
  HostDirectory::Subscription forget_scheme_;  // last: unsubscribes before the map goes
};

}  // namespace wharf::registry
