#include "wharf/registry/host_directory.h"

#include <algorithm>

#include "wharf/registry/client.h"

namespace wharf::registry {

std::optional<HostOptions> HostDirectory::Find(std::string_view host) const {
  if (auto it = config_hosts_.find(host); it != config_hosts_.end()) return it->second;
  std::shared_lock lock(mu_);
  if (auto it = runtime_hosts_.find(host); it != runtime_hosts_.end()) return it->second;
  return std::nullopt;
}

std::vector<HostEntry> HostDirectory::List() const {
  std::map<std::string, HostEntry> by_host;
  {
    std::shared_lock lock(mu_);
    for (const auto& [host, options] : runtime_hosts_) {
      by_host[host] = HostEntry{host, options, HostSource::kApi};
    }
  }
  for (const auto& [host, options] : config_hosts_) {
    by_host[host] = HostEntry{host, options, HostSource::kConfig};
  }
  std::vector<HostEntry> out;
  for (auto& [host, entry] : by_host) out.push_back(std::move(entry));
  return out;
}

bool HostDirectory::InConfig(std::string_view host) const {
  return config_hosts_.find(host) != config_hosts_.end();
}

void HostDirectory::SetHost(const std::string& host, HostOptions options) {
  {
    std::unique_lock lock(mu_);
    runtime_hosts_[host] = std::move(options);
  }
  Notify(host);
}

bool HostDirectory::RemoveHost(const std::string& host) {
  {
    std::unique_lock lock(mu_);
    if (runtime_hosts_.erase(host) == 0) return false;
  }
  Notify(host);
  return true;
}

std::vector<std::string> HostDirectory::Mirrors() const {
  std::vector<std::string> out = config_mirrors_;
  std::shared_lock lock(mu_);
  for (const auto& mirror : runtime_mirrors_) {
    if (std::ranges::find(out, mirror) == out.end()) out.push_back(mirror);
  }
  return out;
}

std::vector<std::string> HostDirectory::RuntimeMirrors() const {
  std::shared_lock lock(mu_);
  return runtime_mirrors_;
}

void HostDirectory::SetMirrors(std::vector<std::string> mirrors) {
  std::unique_lock lock(mu_);
  runtime_mirrors_ = std::move(mirrors);
}

HostDirectory::Subscription HostDirectory::Subscribe(Listener listener) {
  std::lock_guard lock(listeners_mu_);
  uint64_t id = next_id_++;
  listeners_.emplace(id, std::move(listener));
  return Subscription(this, id);
}

void HostDirectory::Notify(const std::string& host) {
  std::lock_guard lock(listeners_mu_);
  for (const auto& [id, listener] : listeners_) listener(host);
}

void HostDirectory::Unsubscribe(uint64_t id) {
  std::lock_guard lock(listeners_mu_);
  listeners_.erase(id);
}

HostDirectory::Subscription& HostDirectory::Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    if (directory_ != nullptr) directory_->Unsubscribe(id_);
    directory_ = std::exchange(other.directory_, nullptr);
    id_ = other.id_;
  }
  return *this;
}

HostDirectory::Subscription::~Subscription() {
  if (directory_ != nullptr) directory_->Unsubscribe(id_);
}

HostOptions HostSettings(const Options& options, std::string_view host) {
  if (options.directory) return options.directory->Find(host).value_or(HostOptions{});
  auto it = options.hosts.find(std::string(host));
  return it != options.hosts.end() ? it->second : HostOptions{};
}

}  // namespace wharf::registry
