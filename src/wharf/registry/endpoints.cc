#include "wharf/registry/endpoints.h"

#include <arpa/inet.h>

#include "wharf/base/strings.h"
#include "wharf/reference/reference.h"

namespace wharf::registry {

namespace {

// "127.0.0.1:5000" → "127.0.0.1"; "[::1]:5000" → "::1"; "localhost" → "localhost".
std::string_view HostOnly(std::string_view host_port) {
  if (host_port.starts_with('[')) {
    size_t close = host_port.find(']');
    return close == std::string_view::npos ? host_port.substr(1) : host_port.substr(1, close - 1);
  }
  size_t colon = host_port.find(':');
  // More than one colon without brackets: a bare IPv6 address.
  if (colon != std::string_view::npos && host_port.find(':', colon + 1) == std::string_view::npos) {
    return host_port.substr(0, colon);
  }
  return host_port;
}

}  // namespace

bool IsLoopbackHost(std::string_view host_port) {
  std::string host = Lower(HostOnly(host_port));
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

std::string Endpoints::HostKey(std::string_view domain) const {
  if (domain == reference::kDockerHubDomain) return UrlHostPort(options_.dockerhub_registry);
  return std::string(domain);
}

Endpoints::Endpoints(const Options& options)
    : options_(options),
      directory_(options.directory
                     ? options.directory
                     : std::make_shared<HostDirectory>(options.hosts, options.mirrors)),
      forget_scheme_(directory_->Subscribe([this](const std::string& host) {
        std::lock_guard lock(mu_);
        scheme_by_host_.erase(host);
      })) {}

HostOptions Endpoints::Host(std::string_view host_key) const {
  if (auto found = directory_->Find(host_key)) return *found;
  // Settings written for "docker.io" mean Docker Hub itself, not a mirror in its place.
  if (host_key == "registry-1.docker.io") {
    if (auto found = directory_->Find("docker.io")) return *found;
  }
  return HostOptions{};
}

std::string Endpoints::BaseUrl(std::string_view domain, const std::function<bool()>& cancelled) {
  if (domain == reference::kDockerHubDomain) {
    std::string url = options_.dockerhub_registry;
    while (url.ends_with('/')) url.pop_back();
    return url;
  }
  std::string key(domain);
  if (!Host(key).insecure && !IsLoopbackHost(key)) return "https://" + key;
  return NegotiateScheme(key, cancelled) + "://" + key;
}

std::string Endpoints::NegotiateScheme(const std::string& host_key,
                                       const std::function<bool()>& cancelled) {
  {
    std::lock_guard lock(mu_);
    if (auto it = scheme_by_host_.find(host_key); it != scheme_by_host_.end()) return it->second;
  }
  // The probe only asks whether the port speaks TLS, so it does not verify the certificate
  // (and sends no credentials); real requests verify as the host's settings say. Concurrent
  // first calls may probe twice, which is harmless.
  HttpRequest probe = NewRequest("https://" + host_key + "/v2/", "registry " + host_key);
  probe.verify_tls = false;
  probe.cancelled = cancelled;
  TransportFailure failure;
  std::string scheme;
  if (PerformHttp(probe, &failure)) {
    scheme = "https";
  } else if (failure == TransportFailure::kTlsHandshake) {
    probe.url = "http://" + host_key + "/v2/";
    if (PerformHttp(probe)) scheme = "http";
  }
  // Unreachable: say https without remembering, so the request reports the real failure and
  // a later call probes again.
  if (scheme.empty()) return "https";
  std::lock_guard lock(mu_);
  scheme_by_host_.emplace(host_key, scheme);
  return scheme;
}

HttpRequest Endpoints::NewRequest(std::string url, std::string peer) const {
  HttpRequest request;
  const HostOptions host = Host(UrlHostPort(url));
  request.url = std::move(url);
  request.peer = std::move(peer);
  request.verify_tls = !host.insecure;
  request.ca_file = host.ca_file;
  request.connect_timeout_s = options_.connect_timeout_s;
  request.stall_timeout_s = options_.stall_timeout_s;
  request.user_agent = options_.user_agent;
  return request;
}

}  // namespace wharf::registry
