#include "wharf/depot/depots.h"

#include <unistd.h>

#include <cstdlib>
#include <mutex>

#include "wharf/base/file_util.h"

namespace wharf::depot {

namespace {

Result<std::shared_ptr<const Catalog>> LoadLocal(const std::filesystem::path& file) {
  auto text = ReadFile(file, 16 << 20);
  if (!text) return InvalidArgument("cannot read catalog " + file.string() + ": " + text.error().message);
  auto catalog = ParseCatalog(*text, file.string());
  if (!catalog) return Error(catalog.error());
  return std::make_shared<const Catalog>(std::move(*catalog));
}

}  // namespace

struct Depots::Impl {
  Impl(DepotsOptions o, registry::WebClient& w, registry::Client& r)
      : options(std::move(o)), web(w), registry(r) {}
  DepotsOptions options;
  registry::WebClient& web;
  registry::Client& registry;
  mutable std::mutex mu;
  std::shared_ptr<const Catalog> appcenter = std::make_shared<Catalog>();
  std::shared_ptr<const Catalog> official = std::make_shared<Catalog>();
};

Depots::Depots(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Depots::~Depots() = default;

Result<std::unique_ptr<Depots>> Depots::Open(DepotsOptions options, registry::WebClient& web,
                                             registry::Client& registry) {
  auto impl = std::make_unique<Impl>(std::move(options), web, registry);
  auto& o = impl->options;
  auto spec = [&](const std::string& s, const char* name) {
    return s.empty() ? o.share_dir / "catalog" / (std::string(name) + ".json")
                     : std::filesystem::path(s);
  };
  auto appcenter = LoadLocal(spec(o.appcenter, "appcenter"));
  if (!appcenter) return Error(appcenter.error());
  auto official = LoadLocal(spec(o.official, "official"));
  if (!official) return Error(official.error());
  impl->appcenter = *appcenter;
  impl->official = *official;
  return std::unique_ptr<Depots>(new Depots(std::move(impl)));
}

std::shared_ptr<const Catalog> Depots::Appcenter() const {
  std::lock_guard lock(impl_->mu);
  return impl_->appcenter;
}

std::shared_ptr<const Catalog> Depots::Official() const {
  std::lock_guard lock(impl_->mu);
  return impl_->official;
}

Result<HubPage> Depots::SearchHub(const std::string&, int64_t, int64_t) {
  return Unavailable("Docker Hub search is not implemented yet");
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
