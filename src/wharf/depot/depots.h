// The remote depots: the curated catalogs (appcenter ≡ qnap, official), loaded from a file or
// an http(s) URL and kept fresh, and Docker Hub search (with a fallback to a private
// registry's /v2/_catalog). Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/depot/catalog.h"
#include "wharf/registry/client.h"
#include "wharf/registry/web_client.h"

namespace wharf::depot {

struct DepotsOptions {
  std::string appcenter;  // path or http(s) URL; empty = share_dir/catalog/appcenter.json
  std::string official;   // likewise
  int64_t refresh_s = 3600;
  std::filesystem::path share_dir;  // where the shipped catalogs and icons live
  std::string index_url = "https://index.docker.io";  // Docker Hub search API base
  std::string registry_url = "https://registry-1.docker.io";  // for the _catalog fallback
  int64_t search_timeout_s = 10;
};

struct HubResult {
  std::string name;
  std::string description;
  int64_t star_count = 0;
  bool is_official = false;
  bool is_trusted = false;
};

struct HubPage {
  std::vector<HubResult> results;
  int64_t num_results = 0;  // total over all pages
  int64_t num_pages = 0;
  int64_t page = 1;
  int64_t page_size = 25;
};

class Depots {
 public:
  // Loads both catalogs. A local catalog that does not parse is an error naming the file and
  // the problem (wharfd refuses to start); a remote one that cannot be fetched at start leaves
  // that depot empty until a refresh succeeds.
  static Result<std::unique_ptr<Depots>> Open(DepotsOptions options, registry::WebClient& web,
                                              registry::Client& registry);
  ~Depots();

  std::shared_ptr<const Catalog> Appcenter() const;
  std::shared_ptr<const Catalog> Official() const;
  // Docker Hub search, page ≥ 1, 1 ≤ n ≤ 100.
  Result<HubPage> SearchHub(const std::string& text, int64_t page, int64_t n);

 private:
  struct Impl;
  explicit Depots(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The directory holding wharf's shipped data: $WHARF_SHARE_DIR if set, else the first of
// <exe>/../share/wharf and <exe>/../share that has catalog/appcenter.json, else "share".
std::filesystem::path FindShareDir();

}  // namespace wharf::depot
