#include "wharf/depot/catalog_source.h"

#include "wharf/base/file_util.h"

namespace wharf::depot {

bool IsRemoteLocation(std::string_view location) {
  return location.starts_with("http://") || location.starts_with("https://");
}

CatalogSource::CatalogSource(std::string location, registry::HttpGetter& web,
                             CatalogFetchLimits limits)
    : location_(std::move(location)),
      web_(web),
      limits_(limits),
      current_(std::make_shared<const Catalog>()) {}

std::shared_ptr<const Catalog> CatalogSource::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

int64_t CatalogSource::not_modified_count() const {
  std::lock_guard lock(mu_);
  return not_modified_;
}

void CatalogSource::Take(Catalog catalog) {
  auto copy = std::make_shared<const Catalog>(std::move(catalog));
  std::lock_guard lock(mu_);
  current_ = std::move(copy);
  have_copy_ = true;
}

Result<bool> CatalogSource::Refresh(const std::function<bool()>& cancelled) {
  if (remote()) return Fetch(cancelled);
  auto text = ReadFile(location_, limits_.max_bytes);
  if (!text) {
    return InvalidArgument("cannot read catalog " + location_ + ": " + text.error().message);
  }
  WHARF_ASSIGN_OR_RETURN(auto catalog, ParseCatalog(*text, location_));
  Take(std::move(catalog));
  return true;
}

Result<bool> CatalogSource::Fetch(const std::function<bool()>& cancelled) {
  registry::HttpGetRequest request{.url = location_,
                                   .headers = {"Accept: application/json"},
                                   .max_body_bytes = limits_.max_bytes,
                                   .stall_timeout_s = limits_.stall_timeout_s,
                                   .total_timeout_s = limits_.total_timeout_s,
                                   .cancelled = cancelled};
  // Validators only with a copy to fall back on: a 304 must have something to keep.
  if (have_copy_ && !etag_.empty()) request.headers.push_back("If-None-Match: " + etag_);
  if (have_copy_ && !last_modified_.empty()) {
    request.headers.push_back("If-Modified-Since: " + last_modified_);
  }
  auto response = web_.Get(request);
  if (!response) {
    Status status = std::move(response).error();
    if (status.code == Code::kTooLarge) {
      status.message =
          location_ + ": catalog larger than " + std::to_string(limits_.max_bytes) + " bytes";
    }
    return Error(std::move(status));
  }
  if (response->status == 304 && have_copy_) {
    std::lock_guard lock(mu_);
    ++not_modified_;
    return false;
  }
  if (response->status < 200 || response->status >= 300) {
    std::string details = registry::DescribeErrorBody(response->body);
    return Unavailable("GET " + location_ + ": " + response->status_text +
                       (details.empty() ? "" : ": " + details));
  }
  WHARF_ASSIGN_OR_RETURN(auto catalog, ParseCatalog(response->body, location_));
  Take(std::move(catalog));
  auto header = [&](const char* name) {
    auto it = response->headers.find(name);
    return it == response->headers.end() ? std::string() : it->second;
  };
  etag_ = header("etag");
  last_modified_ = header("last-modified");
  return true;
}

}  // namespace wharf::depot
