// wharfd's configuration: a TOML file (keys documented in etc/wharf.toml and the README),
// then command-line overrides. Parsing is strict: an unknown key or a value of the wrong type
// is an error whose message names the file and the key ("wharf.toml: downloads.max_concurent:
// unknown key"). Every field has its documented default.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "wharf/base/status.h"

namespace wharf::daemon {

struct RegistryConfig {
  bool insecure = false;
  std::string ca_file;
  std::string username;
  std::string password;
};

// [http]: what one client may take of the API server (see the README, "Security").
struct HttpConfig {
  int64_t max_connections_per_client = 64;  // open at once from one address; more get 503
  int64_t header_timeout_s = 10;            // a request's headers, in total
  int64_t body_timeout_s = 10;      // a request's body, plus its bytes so far at min_rate_bytes_s
  int64_t idle_timeout_s = 30;      // a kept-alive connection waiting for its next request
  int64_t write_timeout_s = 30;     // an answer, plus its size at min_rate_bytes_s
  int64_t min_rate_bytes_s = 4096;  // the slowest transfer rate a client is allowed
  int64_t max_event_streams = 256;  // GET /api/v1/events open at once; more get 429
  int64_t max_event_streams_per_user = 8;
  int64_t upstream_timeout_s = 30;  // a registry call made for a request, in total
};

// [engine]: the hand-off of Docker downloads to the local Docker or Podman (see the README,
// "Hand-off to Docker or Podman").
struct EngineConfig {
  std::string socket;             // the engine's Unix socket; "" = no hand-off
  bool remove_on_delete = false;  // a wharf delete also removes the tag from the engine
  int64_t timeout_s = 600;        // one load or remove, in total
};

// [serve]: the Distribution API on /v2/, for the LAN's engines (see the README, "Use wharf's
// images").
struct ServeConfig {
  bool enabled = true;                // serve the local Docker images on /v2/
  bool anonymous = false;             // anyone who reaches the listener may pull (trusted networks)
  bool pull_through = false;          // a request for an image not stored downloads it
  int64_t token_ttl_s = 300;          // how long a token of /v2/token lives
  int64_t pull_through_wait_s = 600;  // how long a pull-through request waits for its download
};

// [imports]: image archives uploaded to POST /api/v1/image/import.
struct ImportsConfig {
  int64_t max_bytes = int64_t{64} << 30;  // of an upload, and of its decompressed contents
};

// [updates]: checks of the local images against their registries and image servers.
struct UpdatesConfig {
  int64_t check_interval_s = 21600;  // 0 = never in the background
  std::string webhook_url;           // an http(s) URL told of new updates; "" = none
};

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "var";
  std::string log_level = "info";          // trace, debug, info, warn, error
  std::string tls_cert;                    // PEM certificate (chain) for HTTPS; with tls_key
  std::string tls_key;                     // PEM private key
  int64_t max_connections = 4096;          // HTTP connections open at once; more get 503
  std::vector<std::string> allowed_hosts;  // Host header names accepted; empty = any
  HttpConfig http;
  EngineConfig engine;
  ServeConfig serve;
  ImportsConfig imports;
  UpdatesConfig updates;
  int64_t session_ttl_s = 86400;
  // [security] user_registries: "configured" (users who are not admins may have wharf reach
  // only Docker Hub, configured registries and the registries of catalog entries) or "any".
  std::string user_registries = "configured";
  std::string dockerhub_registry = "https://registry-1.docker.io";
  std::string dockerhub_index = "https://index.docker.io";
  std::vector<std::string> dockerhub_mirrors;
  int64_t search_timeout_s = 10;  // a Docker Hub search that stalls this long fails (502)
  // Curated catalogs: a file path or an http(s) URL; empty = the shipped catalog.
  std::string catalog_appcenter;
  std::string catalog_official;
  int64_t catalog_refresh_s = 3600;                  // how often a remote catalog is fetched again
  std::map<std::string, RegistryConfig> registries;  // by "host[:port]"
  std::string registries_file;  // more [registries."HOST"] tables (credentials), mode 0600
  int64_t max_concurrent = 3;
  int64_t failed_ttl_s = 600;
  std::string platform;          // "" = this host
  int64_t attempts = 5;          // tries per registry request for transient failures
  int64_t stall_timeout_s = 30;  // a transfer that delivers no byte this long is retried
  std::string lxc_cache_dir;     // "" = off; else where LXC downloads are handed to lxc-create
  bool lxc_allow_special_files = false;  // device nodes, FIFOs, setuid/setgid files in a rootfs
  bool lxc_require_sha256sums = true;    // an lxc-download build needs SHA256SUMS
  // One layer or LXC rootfs, unpacked (content/unpack_limits.h), and its unpacked bytes per
  // compressed byte past the first 32 MiB (0 = no ratio bound).
  int64_t max_unpacked_bytes = int64_t{64} << 30;
  int64_t max_unpack_ratio = 100;
};

// Parses TOML text. `origin` names the source in messages (usually the file name).
Result<Config> ParseConfig(std::string_view toml_text, std::string_view origin);
// `config` with the [registries."HOST"] tables of its registries_file and, when systemd's
// $CREDENTIALS_DIRECTORY holds a file "registries" (LoadCredential=registries:...), of that
// file added. Each file holds only such tables (another key is an error naming the file and
// the key) and may be read by its owner only: a file readable by its group or others is
// InvalidArgument naming it and its mode. A host set in two places is InvalidArgument naming
// both.
Result<Config> WithRegistriesFiles(const Config& config);
// True if any [registries] table carries a password.
bool HoldsCredentials(const Config& config);
// Reads and parses a file; a missing file is an error naming it.
Result<Config> LoadConfig(const std::filesystem::path& file);
// Splits "HOST:PORT" (IPv6 as "[::1]:8080"); InvalidArgument naming the value otherwise.
Result<std::pair<std::string, int>> SplitHostPort(std::string_view listen);

}  // namespace wharf::daemon
