// GET /api/v1/image/: the listing of one depot in the documents' shapes. local comes from the
// image service; appcenter/qnap and official from the curated catalogs; dockerhub from Docker
// Hub search. installed and downloading are computed live for every entry.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>

#include "wharf/base/status.h"
#include "wharf/depot/depots.h"
#include "wharf/service/downloads.h"
#include "wharf/service/local_images.h"

namespace wharf::api {

struct ListQuery {
  std::string depot;  // local, appcenter, qnap, official, dockerhub (validated)
  std::string type;   // "", docker, lxc (validated)
  std::string filter_text;
  int64_t page = 1;  // dockerhub only
  int64_t n = 25;    // dockerhub only
};

// A Docker Hub search stops with Cancelled once `cancelled` (unset: never) returns true.
Result<nlohmann::json> ListDepot(service::LocalImages& images, service::Downloads& downloads,
                                 depot::Depots& depots, const ListQuery& query,
                                 const std::function<bool()>& cancelled = {});

// The JSON text of local listings (what ListDepot answers for depot "local", serialised),
// kept between requests: rebuilt only when the image service's Version() or the set of
// names downloading or of the tags with an update changed, or for a query not among the last
// few. A list request then costs a version check and a copy of the text, not a read of every
// image. Thread-safe.
class LocalListingCache {
 public:
  Result<std::shared_ptr<const std::string>> Get(service::LocalImages& images,
                                                 service::Downloads& downloads,
                                                 const ListQuery& query,
                                                 const service::TagSet& updates = {});

 private:
  struct Entry {
    uint64_t version = 0;
    std::set<std::pair<std::string, std::string>> downloading;
    service::TagSet updates;
    std::string type;
    std::string filter_text;
    std::shared_ptr<const std::string> text;
  };
  static constexpr size_t kMaxEntries = 8;
  std::mutex mu_;
  std::deque<Entry> entries_;  // most recently built first
};

// One catalog entry as the appcenter/qnap or official depot lists it. `depot` is the spelling
// requested, which LXC entries carry as their repository.
nlohmann::json CatalogEntryView(const depot::CatalogEntry& entry, const std::string& depot,
                                bool installed, bool downloading);
// One Docker Hub search result.
nlohmann::json HubEntryView(const depot::HubResult& result, bool installed, bool downloading);

}  // namespace wharf::api
