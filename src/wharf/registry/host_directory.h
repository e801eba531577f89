// The per-host settings (TLS, credentials) and the Docker Hub mirrors that every client of the
// registry module reads at each request. They come from two sources: the configuration file
// (fixed at start, read-only, winning on conflict) and the run-time settings (made through the
// API, replaced at any time). A change takes effect from the next request on; subscribers are
// told which host changed, so that what they cached for it (a negotiated scheme, tokens, the
// knowledge that it asks for Basic) is dropped.
// Thread-safe: every method may be called from any thread. Listeners run on the thread that
// made the change, after it is visible; they must not subscribe or unsubscribe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace wharf::registry {

struct HostOptions {
  bool insecure = false;  // allow plain HTTP (and skip TLS verification over https)
  std::string ca_file;    // extra CA bundle for this host
  std::string username;   // Basic credentials (also used to obtain Bearer tokens)
  std::string password;
};

enum class HostSource { kConfig, kApi };

struct HostEntry {
  std::string host;  // "host[:port]"
  HostOptions options;
  HostSource source = HostSource::kConfig;
};

class HostDirectory {
 public:
  HostDirectory() = default;
  HostDirectory(std::map<std::string, HostOptions> config_hosts,
                std::vector<std::string> config_mirrors)
      : config_hosts_(config_hosts.begin(), config_hosts.end()),
        config_mirrors_(std::move(config_mirrors)) {}
  HostDirectory(const HostDirectory&) = delete;
  HostDirectory& operator=(const HostDirectory&) = delete;

  // The settings of exactly `host` ("host[:port]"): the configuration's, else the run-time
  // ones, else none.
  std::optional<HostOptions> Find(std::string_view host) const;
  // Every host once, by name; a host in both sources is listed as the configuration's.
  std::vector<HostEntry> List() const;
  // True when the configuration file sets `host` (run-time settings of it are then shadowed).
  bool InConfig(std::string_view host) const;

  // Adds or replaces the run-time settings of `host`; listeners hear of `host`.
  void SetHost(const std::string& host, HostOptions options);
  // Removes the run-time settings of `host`: false when there were none. Listeners hear of
  // `host` when there were.
  bool RemoveHost(const std::string& host);

  // The mirrors to try, in order: the configuration's, then the run-time ones it lacks.
  std::vector<std::string> Mirrors() const;
  std::vector<std::string> ConfigMirrors() const { return config_mirrors_; }
  std::vector<std::string> RuntimeMirrors() const;
  // Replaces the run-time mirrors.
  void SetMirrors(std::vector<std::string> mirrors);

  using Listener = std::function<void(const std::string& host)>;
  // Unsubscribes when destroyed (waiting for a call in progress); must not outlive the
  // directory.
  class Subscription {
   public:
    Subscription() = default;
    Subscription(Subscription&& other) noexcept { *this = std::move(other); }
    Subscription& operator=(Subscription&& other) noexcept;
    ~Subscription();

   private:
    friend class HostDirectory;
    Subscription(HostDirectory* directory, uint64_t id) : directory_(directory), id_(id) {}
    HostDirectory* directory_ = nullptr;
    uint64_t id_ = 0;
  };
  [[nodiscard]] Subscription Subscribe(Listener listener);

 private:
  void Notify(const std::string& host);
  void Unsubscribe(uint64_t id);

  const std::map<std::string, HostOptions, std::less<>> config_hosts_;
  const std::vector<std::string> config_mirrors_;
  mutable std::shared_mutex mu_;
  std::map<std::string, HostOptions, std::less<>> runtime_hosts_;
  std::vector<std::string> runtime_mirrors_;
  std::mutex listeners_mu_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Listener> listeners_;
};

}  // namespace wharf::registry
