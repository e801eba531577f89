#include "wharf/depot/hub_search.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "wharf/base/strings.h"

namespace wharf::depot {

namespace {

using nlohmann::json;

int64_t PagesFor(int64_t total, int64_t n) { return n > 0 ? (total + n - 1) / n : 0; }

// The string under the first of `keys` that holds one, else "".
std::string StringField(const json& obj, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    auto it = obj.find(key);
    if (it != obj.end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

int64_t IntField(const json& obj, const char* key, int64_t fallback) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

bool BoolField(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace

Result<HubPage> ParseHubSearch(std::string_view body, int64_t page, int64_t n,
                               std::string_view origin) {
  json doc = json::parse(body, nullptr, false);
  if (!doc.is_object() || !doc.contains("results") || !doc["results"].is_array()) {
    return Unavailable(std::string(origin) + ": the answer is not a Docker Hub search result");
  }
  HubPage out;
  for (const json& r : doc["results"]) {
    if (!r.is_object()) continue;
    HubResult result;
    // Docker Hub's current answers name these repo_name and short_description.
    result.name = StringField(r, {"name", "repo_name"});
    if (result.name.empty()) continue;
    result.description = StringField(r, {"description", "short_description"});
    result.star_count = IntField(r, "star_count", 0);
    result.is_official = BoolField(r, "is_official");
    result.is_trusted = BoolField(r, "is_trusted") || BoolField(r, "is_automated");
    out.results.push_back(std::move(result));
  }
  out.page_size = IntField(doc, "page_size", n);
  out.page = IntField(doc, "page", page);
  out.num_results = IntField(doc, "num_results", static_cast<int64_t>(out.results.size()));
  out.num_pages = IntField(doc, "num_pages", PagesFor(out.num_results, out.page_size));
  return out;
}

HubPage PageOfRepositories(const std::vector<std::string>& names, const std::string& text,
                           int64_t page, int64_t n) {
  std::vector<const std::string*> matching;
  for (const auto& name : names) {
    if (ContainsIgnoreCase(name, text)) matching.push_back(&name);
  }
  HubPage out;
  out.page = page;
  out.page_size = n;
  out.num_results = static_cast<int64_t>(matching.size());
  out.num_pages = PagesFor(out.num_results, n);
  const int64_t first = (page - 1) * n;
  for (int64_t i = first; i < first + n && i < out.num_results; ++i) {
    const std::string& name = *matching[static_cast<size_t>(i)];
    HubResult r;
    r.is_official = name.starts_with("library/");
    r.name = r.is_official ? name.substr(8) : name;
    out.results.push_back(std::move(r));
  }
  return out;
}

HubSearch::HubSearch(HubSearchOptions options, registry::HttpGetter& web,
                     registry::CatalogLister& lister)
    : options_(std::move(options)), web_(web), lister_(lister) {
  while (options_.index_url.ends_with('/')) options_.index_url.pop_back();
  while (options_.registry_url.ends_with('/')) options_.registry_url.pop_back();
}

Result<HubPage> HubSearch::Search(const std::string& text, int64_t page, int64_t n,
                                  const std::function<bool()>& cancelled) {
  const std::string url = options_.index_url + "/v1/search?q=" + registry::QueryEscape(text) +
                          "&n=" + std::to_string(n) + "&page=" + std::to_string(page);
  const int timeout = static_cast<int>(options_.timeout_s);
  Clock& clock = *web_.options().clock;  // the one the HttpGetter's time limit runs on
  const auto start = clock.SteadyNow();
  auto response = web_.Get({.url = url,
                            .headers = {"Accept: application/json"},
                            .stall_timeout_s = timeout,
                            .total_timeout_s = timeout,
                            .cancelled = cancelled});
  if (!response && response.error().code == Code::kCancelled) {
    return Error(registry::CancelledWhile("the Docker Hub search for \"" + text + "\"",
                                          "server " + registry::UrlHostPort(url),
                                          response.error()));
  }
  if (!response) return Unavailable("Docker Hub search failed: " + response.error().message);
  const long status = response->status;
  if (status == 404 || status == 405 || status == 501) {
    // The fallback gets what is left of the time limit (at least a second).
    auto spent = std::chrono::duration_cast<std::chrono::seconds>(clock.SteadyNow() - start);
    int left = std::max(1, timeout - static_cast<int>(spent.count()));
    return SearchCatalog(text, page, n, left,
                         options_.index_url + " has no search API (" + response->status_text + ")",
                         cancelled);
  }
  if (status < 200 || status >= 300) {
    std::string details = registry::DescribeErrorBody(response->body);
    return Unavailable("Docker Hub search failed: GET " + options_.index_url + "/v1/search: " +
                       response->status_text + (details.empty() ? "" : ": " + details));
  }
  return ParseHubSearch(response->body, page, n, "Docker Hub search at " + options_.index_url);
}

Result<HubPage> HubSearch::SearchCatalog(const std::string& text, int64_t page, int64_t n,
                                         int timeout_s, const std::string& why,
                                         const std::function<bool()>& cancelled) {
  auto names = lister_.Repositories(
      options_.registry_url, {.page_size = 100, .timeout_s = timeout_s, .cancelled = cancelled});
  if (!names && names.error().code == Code::kCancelled) {
    Status status = std::move(names).error();
    status.message += " (the fallback of a search for \"" + text + "\")";
    return Error(std::move(status));
  }
  if (!names) {
    return Unavailable("Docker Hub search failed: " + why + ", and listing the repositories of " +
                       options_.registry_url + " failed: " + names.error().message);
  }
  return PageOfRepositories(*names, text, page, n);
}

}  // namespace wharf::depot
