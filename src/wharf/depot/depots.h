// The remote depots: the curated catalogs (appcenter ≡ qnap, official), each loaded from a
// file or an http(s) URL and kept fresh, and the dockerhub depot (Docker Hub search, with a
// fallback to a private registry's /v2/_catalog; see hub_search.h). Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "wharf/base/clock.h"
#include "wharf/base/status.h"
#include "wharf/depot/catalog.h"
#include "wharf/depot/hub_search.h"
#include "wharf/registry/http_getter.h"

namespace wharf::depot {

struct DepotsOptions {
  std::string appcenter;            // path or http(s) URL; empty = share_dir/catalog/appcenter.json
  std::string official;             // likewise
  int64_t refresh_s = 3600;         // remote catalogs are fetched again this often (≥ 1)
  std::filesystem::path share_dir;  // where the shipped catalogs and icons live
  std::string index_url = "https://index.docker.io";          // Docker Hub search API base
  std::string registry_url = "https://registry-1.docker.io";  // for the _catalog fallback
  int64_t search_timeout_s = 10;
  // The refresh thread waits refresh_s on this clock (Clock::WaitUntil); tests pass a
  // FakeClock and advance it. Must outlive the Depots.
  Clock* clock = &Clock::Default();
};

class Depots {
 public:
  // Loads both catalogs. A local catalog that cannot be read or does not parse is an error
  // naming the file and the problem (wharfd refuses to start). A remote one is fetched once
  // here; if that fails the depot stays empty (and the reason is logged) until a refresh
  // succeeds. With a remote catalog, a background thread fetches it again every refresh_s,
  // keeping the last good copy when a fetch fails; `web` must outlive the Depots.
  static Result<std::unique_ptr<Depots>> Open(DepotsOptions options, registry::HttpGetter& web);
  // Stops the refresh thread (a wait ends within 50 ms), cutting a fetch in progress within
  // about a second.
  ~Depots();

  std::shared_ptr<const Catalog> Appcenter() const;
  std::shared_ptr<const Catalog> Official() const;
  // Docker Hub search, page ≥ 1, 1 ≤ n ≤ 100, cut with Cancelled once `cancelled` (unset:
  // never) returns true: see HubSearch::Search.
  Result<HubPage> SearchHub(const std::string& text, int64_t page, int64_t n,
                            const std::function<bool()>& cancelled = {});

 private:
  struct Impl;
  explicit Depots(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The directory holding wharf's shipped data: $WHARF_SHARE_DIR if set, else the first of
// <exe>/../share/wharf and <exe>/../share that has catalog/appcenter.json, else "share".
std::filesystem::path FindShareDir();

}  // namespace wharf::depot
