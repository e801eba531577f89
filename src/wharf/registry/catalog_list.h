// The repository names a registry holds: GET /v2/_catalog, page after page as its Link headers
// say. Used where a registry has no search API (docker-registry answers /v1/search with 404),
// so that "search" can still list what a private registry offers.
//
// Authenticates as the registry client does (a cached Bearer token or Basic credentials from
// Options::hosts, then one answer to a 401 challenge, for the scope "registry:catalog:*").
// Redirects are not followed. Errors: Unavailable for transport failures, a listing that
// overruns its time limit, other HTTP failures and invalid answers (each names the registry
// and, for HTTP failures, carries the status and the registry's message); NotFound,
// Unauthenticated and PermissionDenied for a 404, a 401 that remains and a 403, as the
// registry client reports them; Cancelled "cancelled while fetching the repository catalog
// from registry HOST" when CatalogListing::cancelled says so (polled during every transfer,
// token requests included).
// Thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/registry/client.h"

namespace wharf::registry {

struct CatalogListing {
  int page_size = 100;              // n= asked of the registry per page
  int timeout_s = 0;                // every page together must arrive within this; 0 = no limit
  size_t max_names = 100000;        // more names than this: the listing stops there
  std::function<bool()> cancelled;  // polled while waiting; true ends with Cancelled
};

class CatalogLister {
 public:
  explicit CatalogLister(Options options);
  ~CatalogLister();
  CatalogLister(const CatalogLister&) = delete;
  CatalogLister& operator=(const CatalogLister&) = delete;

  // The repositories of the registry at `base_url` ("http://127.0.0.1:5000", scheme
  // included, no path), in the registry's order (docker-registry: lexicographic).
  Result<std::vector<std::string>> Repositories(const std::string& base_url,
                                                const CatalogListing& listing);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wharf::registry
