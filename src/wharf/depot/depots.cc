#include "wharf/depot/depots.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "wharf/depot/catalog_source.h"
#include "wharf/registry/catalog_list.h"

namespace wharf::depot {

struct Depots::Impl {
  Impl(DepotsOptions o, registry::HttpGetter& web)
      : options(std::move(o)),
        appcenter(Location(options.appcenter, "appcenter"), web),
        official(Location(options.official, "official"), web),
        lister(web.options()),
        hub({options.index_url, options.registry_url, options.search_timeout_s}, web, lister) {}

  ~Impl() {
    stopping = true;
    if (refresher.joinable()) refresher.join();
  }

  std::string Location(const std::string& configured, const char* name) const {
    if (!configured.empty()) return configured;
    return (options.share_dir / "catalog" / (std::string(name) + ".json")).string();
  }

  // Fetches a remote catalog again and logs what became of it.
  void Refresh(const char* depot, CatalogSource& source) {
    auto fresh = source.Refresh([this] { return stopping.load(); });
    if (fresh) {
      if (*fresh) {
        spdlog::info("{} catalog: loaded {} entries from {}", depot,
                     source.Current()->entries.size(), source.location());
      } else {
        spdlog::debug("{} catalog: {} unchanged (304 Not Modified)", depot, source.location());
      }
      return;
    }
    if (fresh.error().code == Code::kCancelled) return;  // shutting down
    size_t kept = source.Current()->entries.size();
    spdlog::warn("{} catalog: {}; {}", depot, fresh.error().message,
                 kept > 0 ? "keeping the last good copy (" + std::to_string(kept) + " entries)"
                          : std::string("the depot stays empty until a fetch succeeds"));
  }

  void RefreshLoop() {
    const auto period = std::chrono::seconds(std::max<int64_t>(1, options.refresh_s));
    Clock& clock = *options.clock;
    auto stop = [this] { return stopping.load(); };
    while (clock.WaitUntil(clock.SteadyNow() + period, stop)) {
      for (auto [depot, source] :
           {std::pair{"appcenter", &appcenter}, std::pair{"official", &official}}) {
        if (source->remote() && !stopping) Refresh(depot, *source);
      }
    }
  }

  DepotsOptions options;
  CatalogSource appcenter;
  CatalogSource official;
  registry::CatalogLister lister;
  HubSearch hub;

  std::atomic<bool> stopping{false};
  std::thread refresher;  // last: started once everything above exists
};

Depots::Depots(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Depots::~Depots() = default;

Result<std::unique_ptr<Depots>> Depots::Open(DepotsOptions options, registry::HttpGetter& web) {
  auto impl = std::make_unique<Impl>(std::move(options), web);
  for (auto [depot, source] :
       {std::pair{"appcenter", &impl->appcenter}, std::pair{"official", &impl->official}}) {
    if (source->remote()) {
      impl->Refresh(depot, *source);
    } else if (auto loaded = source->Refresh(); !loaded) {
      return Error(loaded.error());
    }
  }
  if (impl->appcenter.remote() || impl->official.remote()) {
    impl->refresher = std::thread([raw = impl.get()] { raw->RefreshLoop(); });
  }
  return std::unique_ptr<Depots>(new Depots(std::move(impl)));
}

std::shared_ptr<const Catalog> Depots::Appcenter() const { return impl_->appcenter.Current(); }

std::shared_ptr<const Catalog> Depots::Official() const { return impl_->official.Current(); }

Result<HubPage> Depots::SearchHub(const std::string& text, int64_t page, int64_t n,
                                  const std::function<bool()>& cancelled) {
  return impl_->hub.Search(text, page, n, cancelled);
}

std::filesystem::path FindShareDir() {
  if (const char* env = std::getenv("WHARF_SHARE_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    std::filesystem::path exe(std::string(buf, static_cast<size_t>(n)));
    for (auto candidate : {exe.parent_path().parent_path() / "share" / "wharf",
                           exe.parent_path().parent_path() / "share"}) {
      if (std::filesystem::exists(candidate / "catalog" / "appcenter.json")) return candidate;
    }
  }
  return "share";
}

}  // namespace wharf::depot
