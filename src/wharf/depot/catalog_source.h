// One curated catalog and where it comes from: a file, read once at start, or an http(s) URL,
// fetched again on each Refresh with a conditional GET (If-None-Match / If-Modified-Since from
// the last good answer), so an unchanged catalog costs a 304 and keeps its copy. A fetch or a
// parse that fails leaves the last good copy in place: a broken server never empties a depot
// that once loaded. Thread-safe: Current() may run while Refresh() does; Refresh() itself is
// called by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "wharf/base/status.h"
#include "wharf/depot/catalog.h"
#include "wharf/registry/http_getter.h"

namespace wharf::depot {

// True for an http:// or https:// location; anything else is a file path.
bool IsRemoteLocation(std::string_view location);

struct CatalogFetchLimits {
  size_t max_bytes = 16 << 20;  // a bigger catalog is refused
  int stall_timeout_s = 15;     // no byte for this long: the fetch fails
  int total_timeout_s = 30;     // the whole fetch must end within this
};

class CatalogSource {
 public:
  // `location` is a path or an http(s) URL; `web` must outlive the source.
  CatalogSource(std::string location, registry::HttpGetter& web, CatalogFetchLimits limits = {});

  const std::string& location() const { return location_; }
  bool remote() const { return IsRemoteLocation(location_); }

  // Reads the file or fetches the URL and, if it parses, takes it as the current copy.
  // Returns true when a new copy was taken, false when the server answered 304 Not Modified.
  // Errors (the current copy is kept): InvalidArgument for a file that cannot be read or a
  // catalog that does not parse (naming the file or URL, the entry and the problem);
  // Unavailable for a server that cannot be reached, times out or answers another status
  // (its status and message are carried); Cancelled when `cancelled` returned true.
  Result<bool> Refresh(const std::function<bool()>& cancelled = {});

  // The last good copy; an empty catalog until one loads. Never null.
  std::shared_ptr<const Catalog> Current() const;
  // Fetches answered 304 so far (remote only), for logs and tests.
  int64_t not_modified_count() const;

 private:
  Result<bool> Fetch(const std::function<bool()>& cancelled);
  void Take(Catalog catalog);

  const std::string location_;
  registry::HttpGetter& web_;
  const CatalogFetchLimits limits_;
  // Validators of the current copy, sent on the next fetch (Refresh's thread only).
  std::string etag_;
  std::string last_modified_;
  bool have_copy_ = false;

  mutable std::mutex mu_;
  std::shared_ptr<const Catalog> current_;
  int64_t not_modified_ = 0;
};

}  // namespace wharf::depot
