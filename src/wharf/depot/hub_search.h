// The dockerhub depot: Docker Hub's search API, GET {index}/v1/search?q=TEXT&n=N&page=P, and,
// where the index has no such API (a private docker-registry answers 404; 405 and 501 count
// the same), the registry's own repository list (/v2/_catalog, every Link page) filtered and
// paged here. Thread-safe.
//
// Errors: Unavailable for every upstream failure, naming the server and carrying its status
// and message (a registry refusing our credentials included: to the API's client that is an
// upstream failure, not its own); a search that has not answered within timeout_s is cut.
// That time limit runs on the HttpGetter's clock (registry::Options::clock), the fallback's
// share of it included.
// Cancelled when the caller's `cancelled` said so (see Search).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/registry/catalog_list.h"
#include "wharf/registry/http_getter.h"

namespace wharf::depot {

struct HubResult {
  std::string name;  // as Docker Hub shows it: "ubuntu", "dorowu/ubuntu-desktop-lxde-vnc"
  std::string description;
  int64_t star_count = 0;
  bool is_official = false;
  bool is_trusted = false;  // Docker Hub's is_trusted or is_automated
};

struct HubPage {
  std::vector<HubResult> results;
  int64_t num_results = 0;  // total over all pages
  int64_t num_pages = 0;
  int64_t page = 1;
  int64_t page_size = 25;
};

struct HubSearchOptions {
  std::string index_url = "https://index.docker.io";          // scheme included, no path
  std::string registry_url = "https://registry-1.docker.io";  // for the _catalog fallback
  int64_t timeout_s = 10;  // each search, fallback included, ends within this
};

class HubSearch {
 public:
  // `web` and `lister` must outlive the search.
  HubSearch(HubSearchOptions options, registry::HttpGetter& web, registry::CatalogLister& lister);

  // One page (page ≥ 1, 1 ≤ n ≤ 100) of the repositories matching `text`. `cancelled` (unset:
  // never) is polled during every transfer (the search, and in the fallback every catalog
  // page and token request) and every wait between tries; once it returns true the search
  // ends within about a second with Cancelled "cancelled while fetching the Docker Hub
  // search for \"TEXT\" from server HOST" (or "... the repository catalog from registry
  // HOST (the fallback of a search for \"TEXT\")").
  Result<HubPage> Search(const std::string& text, int64_t page, int64_t n,
                         const std::function<bool()>& cancelled = {});

 private:
  Result<HubPage> SearchCatalog(const std::string& text, int64_t page, int64_t n, int timeout_s,
                                const std::string& why, const std::function<bool()>& cancelled);

  HubSearchOptions options_;
  registry::HttpGetter& web_;
  registry::CatalogLister& lister_;
};

// Docker Hub's v1 search answer as a page. Missing totals are derived from what is there;
// results without a name are skipped. Unavailable naming `origin` if the body is not a search
// answer.
Result<HubPage> ParseHubSearch(std::string_view body, int64_t page, int64_t n,
                               std::string_view origin);

// Page `page` of the `names` (a registry's repositories) that contain `text`, compared
// case-insensitively; n a page. Stars are 0; library/ names are official and shown without
// "library/".
HubPage PageOfRepositories(const std::vector<std::string>& names, const std::string& text,
                           int64_t page, int64_t n);

}  // namespace wharf::depot
