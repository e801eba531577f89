#include "wharf/daemon/daemon.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>

#include "wharf/api/server.h"
#include "wharf/base/clock.h"
#include "wharf/base/file_util.h"
#include "wharf/content/blob_store.h"
#include "wharf/content/unpack_limits.h"
#include "wharf/daemon/data_dir_check.h"
#include "wharf/daemon/listen_url.h"
#include "wharf/depot/depots.h"
#include "wharf/engine/engine.h"
#include "wharf/fsck/data_dir_lock.h"
#include "wharf/lxc/lxc_cache.h"
#include "wharf/lxc/lxc_fetcher.h"
#include "wharf/metadata/database.h"
#include "wharf/metadata/image_store.h"
#include "wharf/metadata/job_store.h"
#include "wharf/metadata/registry_store.h"
#include "wharf/metadata/update_store.h"
#include "wharf/metadata/user_store.h"
#include "wharf/oci/image.h"
#include "wharf/pull/blob_pins.h"
#include "wharf/pull/docker_fetcher.h"
#include "wharf/pull/image_changes.h"
#include "wharf/pull/pull_queue.h"
#include "wharf/registry/client.h"
#include "wharf/registry/http_getter.h"
#include "wharf/registry/http_poster.h"
#include "wharf/serve/served_images.h"
#include "wharf/service/auth.h"
#include "wharf/service/collector.h"
#include "wharf/service/downloads.h"
#include "wharf/service/imports.h"
#include "wharf/service/local_images.h"
#include "wharf/service/registries.h"
#include "wharf/service/remote_images.h"
#include "wharf/service/updates.h"
#include "wharf/service/updates_webhook.h"

namespace wharf::daemon {

namespace {

// The per-host settings and mirrors of the configuration, read-only, with those of the API
// added at run time (service::Registries).
std::shared_ptr<registry::HostDirectory> HostDirectoryOf(const Config& config) {
  std::map<std::string, registry::HostOptions> hosts;
  for (const auto& [host, rc] : config.registries) {
    hosts[host] = registry::HostOptions{rc.insecure, rc.ca_file, rc.username, rc.password};
  }
  return std::make_shared<registry::HostDirectory>(std::move(hosts), config.dockerhub_mirrors);
}

registry::Options RegistryOptions(const Config& config,
                                  std::shared_ptr<registry::HostDirectory> directory) {
  registry::Options o;
  o.dockerhub_registry = config.dockerhub_registry;
  o.directory = std::move(directory);
  o.stall_timeout_s = static_cast<int>(config.stall_timeout_s);
  o.request_tries = static_cast<int>(config.attempts);
  return o;
}

// Waits for SIGINT or SIGTERM on a dedicated thread (signals are blocked everywhere else).
class SignalWaiter {
 public:
  SignalWaiter() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    signal(SIGPIPE, SIG_IGN);
  }
  int Wait() {
    int sig = 0;
    sigwait(&set_, &sig);
    return sig;
  }

 private:
  sigset_t set_;
};

// Every connection is a file descriptor: the soft limit (often 1,024) is raised to the hard
// one, and the connection cap lowered to what fits beside the store's own descriptors.
size_t ConnectionsThatFit(size_t wanted) {
  constexpr size_t kOwnDescriptors = 256;  // SQLite, blobs being written, registry sockets
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return wanted;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  size_t fit =
      limit.rlim_cur > kOwnDescriptors * 2 ? limit.rlim_cur - kOwnDescriptors : limit.rlim_cur / 2;
  if (wanted <= fit) return wanted;
  spdlog::warn("max_connections lowered from {} to {}: the file descriptor limit is {}", wanted,
               fit, static_cast<uint64_t>(limit.rlim_cur));
  return fit;
}

api::ServerOptions ServerOptionsOf(const Config& config, const std::filesystem::path& share) {
  api::ServerOptions o;
  o.session_ttl_s = config.session_ttl_s;
  o.share_dir = share;
  o.allowed_hosts = config.allowed_hosts;
  o.max_event_streams = static_cast<size_t>(config.http.max_event_streams);
  o.max_event_streams_per_user = static_cast<size_t>(config.http.max_event_streams_per_user);
  o.upstream_timeout_s = static_cast<int>(config.http.upstream_timeout_s);
  api::HttpServerOptions& h = o.http;
  h.tls_cert = config.tls_cert;
  h.tls_key = config.tls_key;
  h.max_connections = ConnectionsThatFit(static_cast<size_t>(config.max_connections));
  h.max_connections_per_client = static_cast<size_t>(config.http.max_connections_per_client);
  h.header_timeout_s = static_cast<int>(config.http.header_timeout_s);
  h.body_timeout_s = static_cast<int>(config.http.body_timeout_s);
  h.idle_timeout_s = static_cast<int>(config.http.idle_timeout_s);
  h.write_timeout_s = static_cast<int>(config.http.write_timeout_s);
  h.min_rate_bytes_s = static_cast<size_t>(config.http.min_rate_bytes_s);
  o.serve.enabled = config.serve.enabled;
  o.serve.anonymous = config.serve.anonymous;
  o.serve.token_ttl_s = config.serve.token_ttl_s;
  o.serve.pull_through = config.serve.pull_through;
  o.serve.pull_through_wait_s = config.serve.pull_through_wait_s;
  return o;
}

// With [engine] socket set, every Docker download ends with its hand-off to that engine.
// [downloads] max_unpacked_bytes and max_unpack_ratio, for layers and LXC rootfs tarballs.
content::UnpackLimits UnpackLimitsOf(const Config& config) {
  return {.max_bytes = static_cast<uint64_t>(config.max_unpacked_bytes),
          .max_ratio = static_cast<uint64_t>(config.max_unpack_ratio)};
}

lxc::LxcFetcherOptions LxcOptionsOf(const Config& config) {
  lxc::LxcFetcherOptions options;
  options.request_tries = static_cast<int>(config.attempts);
  options.stall_timeout_s = static_cast<int>(config.stall_timeout_s);
  options.unpack = UnpackLimitsOf(config);
  options.allow_special_files = config.lxc_allow_special_files;
  options.require_sha256sums = config.lxc_require_sha256sums;
  return options;
}

engine::EngineOptions EngineOptionsOf(const Config& config) {
  return {config.engine.socket, config.engine.remove_on_delete,
          static_cast<int>(config.engine.timeout_s)};
}

void HandDockerImagesTo(engine::Engine& engine, pull::PullQueue& queue) {
  if (!engine.enabled()) return;
  spdlog::info("Docker downloads are handed to the engine at {}{}", engine.socket(),
               engine.remove_on_delete() ? " (and removed from it on delete)" : "");
  queue.SetHandOff("docker",
                   [&engine](const metadata::ImageRecord& image, const std::atomic<bool>& cancel) {
                     return engine.Load(image, &cancel);
                   });
}

// The metadata and content stores, opened by Run.
struct Stores {
  content::BlobStore& blobs;
  metadata::ImageStore& images;
  metadata::JobStore& jobs;
  metadata::UpdateStore& updates;
  metadata::RegistryStore& registries;
};

// What runs while wharfd listens, and the start-up work done meanwhile.
struct Running {
  pull::PullQueue& queue;
  service::Collector& collector;
  service::Updates& updates;
  bool collect_at_start;  // unreferenced blobs may be collected (no download can resume)
};

// The API on `listen` until a signal, then everything stopped in order.
Result<void> Listen(const Config& config, const oci::Platform& platform,
                    const std::pair<std::string, int>& listen, SignalWaiter& signals,
                    const std::filesystem::path& share_dir, api::Services services,
                    Running running) {
  auto created = api::Server::Create(ServerOptionsOf(config, share_dir), services);
  if (!created) return Error(created.error());
  api::Server& server = **created;
  auto bound = server.Bind(listen.first, listen.second);
  if (!bound) return Fail(bound.error().code, bound.error().message + ": " + ListenSettingsHint());
  const int port = *bound;
  WHARF_RETURN_IF_ERROR(running.queue.Start());
  running.updates.Start();
  spdlog::info("{} (data in {}, platform {})",
               ListeningLine(!config.tls_cert.empty(), listen.first, port), config.data_dir,
               platform.String());

  Result<void> served;
  std::thread http([&] { served = server.Serve(); });
  // Start-up work no answer waits for, done while the first requests are served: index.json
  // (an OCI layout index for other tools, never fsynced) written again if a kill or a power
  // cut left it behind the metadata, and the garbage collection above. Both run under the locks
  // they take after every download and delete. With 10,000 images they took ~80 ms of CPU before
  // listening.
  std::thread housekeeping([&] {
    if (auto s = running.collector.RefreshLayoutIndex(); !s) {
      spdlog::error("cannot rewrite index.json: {}", s.error().message);
    }
    if (running.collect_at_start) running.collector.CollectGarbage();
  });
  int sig = signals.Wait();
  spdlog::info("wharfd stopping (signal {})", sig);
  housekeeping.join();
  running.updates.Stop();
  services.events.Close();  // ends open event streams so the server can stop
  server.Stop();
  http.join();
  running.queue.Stop();
  return served;
}

// The store's services, wired once in order (each takes what it needs, built before it),
// then the API until a signal.
Result<void> Serve(const Config& config, const oci::Platform& platform,
                   const std::pair<std::string, int>& listen, SignalWaiter& signals,
                   const Stores& stores, service::Auth& auth) {
  content::BlobStore& store = stores.blobs;
  metadata::ImageStore& images = stores.images;
  metadata::JobStore& jobs = stores.jobs;
  const auto hosts = HostDirectoryOf(config);
  service::Registries registries(stores.registries, *hosts,
                                 std::filesystem::path(config.data_dir) / "registries",
                                 RegistryOptions(config, hosts));
  WHARF_RETURN_IF_ERROR(registries.Load());
  registry::Client client(RegistryOptions(config, hosts));
  registry::HttpGetter web(RegistryOptions(config, hosts));
  depot::DepotsOptions depot_options{config.catalog_appcenter, config.catalog_official,
                                     config.catalog_refresh_s, depot::FindShareDir(),
                                     config.dockerhub_index,   config.dockerhub_registry,
                                     config.search_timeout_s};
  auto depots = depot::Depots::Open(depot_options, web);
  if (!depots) return Error(depots.error());
  pull::BlobPins pins;
  pull::EventBus events;
  pull::ImageChanges changes;
  lxc::LxcCache lxc_cache(config.lxc_cache_dir);
  engine::Engine engine(store, EngineOptionsOf(config));
  service::LocalImages local(store, images, changes);
  service::Collector collector(store, images, pins, local, changes, &events, &lxc_cache);
  pull::PullQueue queue(
      {static_cast<int>(config.max_concurrent), config.failed_ttl_s}, jobs, images, changes,
      [&collector](bool committed, bool replaced) { collector.OnJobEnded(committed, replaced); },
      &events);
  pull::DockerFetcherOptions docker_options;
  docker_options.platform = platform;
  docker_options.range_restarts = static_cast<int>(config.attempts);
  docker_options.unpack = UnpackLimitsOf(config);
  pull::DockerFetcher docker(docker_options, store, client, pins);
  queue.AddFetcher("docker", &docker);
  HandDockerImagesTo(engine, queue);
  // LXC images: names from the appcenter catalog, files from its image servers.
  const lxc::LxcFetcherOptions lxc_options = LxcOptionsOf(config);
  lxc::LxcFetcher lxc_fetcher(lxc_options, store, web, pins, lxc_cache,
                              [&depots] { return (*depots)->Appcenter(); });
  queue.AddFetcher("lxc", &lxc_fetcher);
  // [security] user_registries: whom remote inspect and tags may send to which registry.
  service::RegistryReach reach{
      .any = config.user_registries == "any",
      .configured = [hosts](const std::string& host) { return hosts->Find(host).has_value(); },
      .depots = depots->get()};
  service::RemoteImages remote(client, local, platform, std::move(reach));
  service::Downloads downloads(queue, depots->get(), collector, &engine);
  service::Imports imports({.max_bytes = static_cast<uint64_t>(config.imports.max_bytes),
                            .platform = platform,
                            .unpack = UnpackLimitsOf(config)},
                           store, pins, images, queue);

  // A kill between a delete's commit and its garbage collection leaves unreferenced blobs:
  // they are collected once the server listens, unless an unfinished download may resume
  // from what is on disk.
  auto recorded = jobs.List();
  const bool collect_at_start =
      recorded && std::ranges::all_of(*recorded, [](const auto& j) { return j.state == "failed"; });

  registry::HttpPoster poster(RegistryOptions(config, hosts));
  std::optional<service::UpdateWebhook> webhook;
  if (!config.updates.webhook_url.empty()) {
    webhook.emplace(service::WebhookOptions{.url = config.updates.webhook_url}, poster);
  }
  service::Updates updates({.check_interval_s = config.updates.check_interval_s,
                            .platform = platform,
                            .webhook = webhook ? &*webhook : nullptr},
                           client, local, stores.updates, &events,
                           {[&depots] { return (*depots)->Appcenter(); },
                            &web,
                            {lxc_options.request_tries, lxc_options.stall_timeout_s}});
  serve::ServedImages served_images(local, store);
  return Listen(config, platform, listen, signals, depot_options.share_dir,
                {local, remote, downloads, auth, **depots, events, &served_images, &imports,
                 &updates, &registries},
                {queue, collector, updates, collect_at_start});
}

}  // namespace

Result<void> Run(const Config& file_config) {
  SignalWaiter signals;  // before any thread starts, so all threads inherit the mask
  WHARF_ASSIGN_OR_RETURN(const Config config, WithRegistriesFiles(file_config));
  spdlog::set_level(spdlog::level::from_str(config.log_level));

  auto platform =
      config.platform.empty() ? oci::HostPlatform() : oci::ParsePlatform(config.platform);
  if (!platform) return InvalidArgument("downloads.platform: " + platform.error().message);
  WHARF_ASSIGN_OR_RETURN(auto listen, SplitHostPort(config.listen));

  std::filesystem::path data = config.data_dir;
  const bool fresh = !std::filesystem::exists(data);
  WHARF_RETURN_IF_ERROR(MakeDirs(data));
  if (fresh && ::chmod(data.c_str(), 0700) != 0) {
    return ErrnoError("chmod " + data.string(), errno);
  }
  WHARF_ASSIGN_OR_RETURN(auto data_warnings, CheckDataDir(data, ::geteuid()));
  for (const auto& warning : data_warnings) spdlog::warn("{}", warning);
  // One process at a time owns the data directory: a second wharfd, or a `wharfd fsck`, is
  // refused while this one runs (the kernel drops the lock when the process ends).
  auto data_lock = fsck::DataDirLock::Acquire(data);
  if (!data_lock) return Error(data_lock.error());
  auto store = content::BlobStore::Open(data);
  if (!store) return Error(store.error());
  auto db = metadata::Database::Open(data / "wharf.db");
  if (!db) return Error(db.error());
  metadata::ImageStore images(**db);
  metadata::JobStore jobs(**db);
  metadata::UserStore users(**db);
  metadata::UpdateStore updates(**db);
  metadata::RegistryStore registry_store(**db);

  service::Auth auth(users, config.session_ttl_s);
  const char* env_password = std::getenv("WHARF_ADMIN_PASSWORD");
  WHARF_ASSIGN_OR_RETURN(auto generated, auth.EnsureAdmin(env_password ? env_password : ""));
  if (!generated.empty()) {
    std::printf("wharfd: created user \"admin\" with password: %s\n", generated.c_str());
    std::printf(
        "wharfd: this password is shown only once; set WHARF_ADMIN_PASSWORD to choose it\n");
    std::fflush(stdout);
  }
  if (auto s = users.DeleteExpiredSessions(Clock::Default().NowSeconds()); !s) {
    spdlog::warn("cannot purge expired sessions: {}", s.error().message);
  }

  return Serve(config, *platform, listen, signals, {**store, images, jobs, updates, registry_store},
               auth);
}

}  // namespace wharf::daemon
