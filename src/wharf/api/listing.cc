#include "wharf/api/listing.h"

#include <algorithm>

#include "wharf/api/views.h"
#include "wharf/base/strings.h"
#include "wharf/service/image_names.h"

namespace wharf::api {

namespace {

bool MatchesFilter(const depot::CatalogEntry& e, const std::string& filter) {
  if (filter.empty()) return true;
  for (const std::string* field : {&e.name, &e.title, &e.description}) {
    if (ContainsIgnoreCase(*field, filter)) return true;
  }
  return false;
}

// The key under which the image service knows an entry: Docker names are canonicalised.
std::string LocalName(const std::string& type, const std::string& name) {
  if (type != "docker") return name;
  auto canonical = service::CanonicalName(name);
  return canonical ? *canonical : name;
}

Result<nlohmann::json> ListCatalog(const depot::Catalog& catalog, const service::LocalState& state,
                                   const ListQuery& q) {
  nlohmann::json results = nlohmann::json::array();
  const std::string& filter = q.filter_text;
  for (const auto& e : catalog.entries) {
    if (!q.type.empty() && e.type != q.type) continue;
    if (!MatchesFilter(e, filter)) continue;
    std::string local = LocalName(e.type, e.name);
    results.push_back(CatalogEntryView(e, q.depot, state.Installed(e.type, local),
                                       state.Downloading(e.type, local)));
  }
  return ListingView(q.depot, q.filter_text, q.type, std::move(results));
}

}  // namespace

nlohmann::json CatalogEntryView(const depot::CatalogEntry& e, const std::string& depot,
                                bool installed, bool downloading) {
  nlohmann::json entry = {
      {"arch", e.arch},
      {"description", e.description},
      {"downloading", downloading},
      {"icon", e.icon},
      {"icon_local", e.icon_local.empty() ? "" : "/icons/" + e.icon_local},
      {"installed", installed},
      {"name", e.name},
      {"title", e.title},
      {"type", e.type},
      {"version", e.version},
  };
  if (e.location) {
    entry["location"] = *e.location;
    entry["repository"] = "dockerhub";
  } else {
    entry["repository"] = e.type == "lxc" ? depot : "dockerhub";
  }
  if (e.has_size) entry["size"] = e.size ? nlohmann::json(*e.size) : nlohmann::json(nullptr);
  if (e.inspect) entry["inspect"] = *e.inspect;
  return entry;
}

nlohmann::json HubEntryView(const depot::HubResult& r, bool installed, bool downloading) {
  bool library = r.is_official || r.name.find('/') == std::string::npos;
  std::string short_name = r.name.starts_with("library/") ? r.name.substr(8) : r.name;
  return {
      {"description", r.description},
      {"downloading", downloading},
      {"installed", installed},
      {"is_official", r.is_official},
      {"is_trusted", r.is_trusted},
      {"location", library ? "https://registry.hub.docker.com/_/" + short_name + "/"
                           : "https://registry.hub.docker.com/u/" + r.name + "/"},
      {"name", short_name},
      {"repository", "dockerhub"},
      {"star_count", r.star_count},
      {"type", "docker"},
  };
}

namespace {

Result<nlohmann::json> ListLocal(service::LocalImages& images, const ListQuery& q,
                                 const std::set<std::pair<std::string, std::string>>& downloading,
                                 const service::TagSet& updates) {
  WHARF_ASSIGN_OR_RETURN(auto local, images.List(q.type, q.filter_text, downloading, updates));
  nlohmann::json results = nlohmann::json::array();
  for (const auto& image : local) results.push_back(LocalEntryView(image));
  return ListingView(q.depot, q.filter_text, q.type, std::move(results));
}

}  // namespace

Result<std::shared_ptr<const std::string>> LocalListingCache::Get(service::LocalImages& images,
                                                                  service::Downloads& downloads,
                                                                  const ListQuery& q,
                                                                  const service::TagSet& updates) {
  // Both read before the listing is built, so an entry is never newer than its key says.
  uint64_t version = images.Version();
  auto downloading = downloads.BusyNames();
  std::lock_guard lock(mu_);  // one build at a time; the others then find it
  for (const Entry& e : entries_) {
    if (e.version == version && e.type == q.type && e.filter_text == q.filter_text &&
        e.downloading == downloading && e.updates == updates) {
      return e.text;
    }
  }
  WHARF_ASSIGN_OR_RETURN(auto listing, ListLocal(images, q, downloading, updates));
  auto text = std::make_shared<const std::string>(listing.dump());
  // Entries of older versions can never match again.
  std::erase_if(entries_, [&](const Entry& e) { return e.version != version; });
  entries_.push_front(Entry{version, std::move(downloading), updates, q.type, q.filter_text, text});
  if (entries_.size() > kMaxEntries) entries_.pop_back();
  return text;
}

Result<nlohmann::json> ListDepot(service::LocalImages& images, service::Downloads& downloads,
                                 depot::Depots& depots, const ListQuery& q,
                                 const std::function<bool()>& cancelled) {
  if (q.depot == "local") return ListLocal(images, q, downloads.BusyNames(), {});
  WHARF_ASSIGN_OR_RETURN(auto state, images.State(downloads.BusyNames()));
  if (q.depot == "appcenter" || q.depot == "qnap")
    return ListCatalog(*depots.Appcenter(), state, q);
  if (q.depot == "official") return ListCatalog(*depots.Official(), state, q);

  // dockerhub: only Docker images live there.
  nlohmann::json results = nlohmann::json::array();
  depot::HubPage page;
  page.page = q.page;
  page.page_size = q.n;
  if (q.type != "lxc") {
    WHARF_ASSIGN_OR_RETURN(page, depots.SearchHub(q.filter_text, q.page, q.n, cancelled));
    for (const auto& r : page.results) {
      std::string local = LocalName("docker", r.name);
      results.push_back(
          HubEntryView(r, state.Installed("docker", local), state.Downloading("docker", local)));
    }
  }
  nlohmann::json out = ListingView(q.depot, q.filter_text, q.type, std::move(results));
  out["page"] = page.page;
  out["n"] = page.page_size;
  out["num_pages"] = page.num_pages;
  out["num_results"] = page.num_results;
  return out;
}

}  // namespace wharf::api
