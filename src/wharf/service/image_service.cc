#include "wharf/service/image_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "wharf/base/log_text.h"
#include "wharf/reference/reference.h"
#include "wharf/registry/manifest_resolver.h"
#include "wharf/service/inspect_view.h"

namespace wharf::service {

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool Contains(const std::string& haystack, const std::string& lower_needle) {
  return Lower(haystack).find(lower_needle) != std::string::npos;
}

// "latest" first, then byte-wise order.
void SortTags(std::vector<std::string>& tags) {
  std::sort(tags.begin(), tags.end(), [](const std::string& a, const std::string& b) {
    if ((a == "latest") != (b == "latest")) return a == "latest";
    return a < b;
  });
}

std::string RepoDigestOf(const metadata::ImageRecord& image) {
  auto extra = nlohmann::json::parse(image.extra, nullptr, false);
  if (extra.is_object() && extra.contains("repo_digest") && extra["repo_digest"].is_string()) {
    return extra["repo_digest"].get<std::string>();
  }
  return image.manifest_digest;
}

// Parses an image name and tag from the API, naming the parameter that is wrong.
Result<reference::Reference> ParseImage(const std::string& name, const std::string& tag) {
  auto ref = reference::ParseNameAndTag(name, tag);
  if (ref) return ref;
  bool tag_is_bad = !tag.empty() && !tag.starts_with("sha256:") && !reference::IsValidTag(tag);
  return InvalidArgument(std::string(tag_is_bad ? "image_tag" : "image_name") + ": " +
                         ref.error().message);
}

}  // namespace

ImageService::ImageService(content::BlobStore& store, metadata::MetadataStore& metadata,
                           pull::PullQueue& queue, pull::BlobPins& pins, registry::Client& client,
                           oci::Platform platform)
    : store_(store),
      metadata_(metadata),
      queue_(queue),
      pins_(pins),
      client_(client),
      platform_(std::move(platform)) {}

uint64_t ImageService::LocalVersion() {
  // Both counters only grow, so their sum moves whenever either does.
  return local_changes_.load() + static_cast<uint64_t>(queue_.Stats().done);
}

Result<ImageService::Records> ImageService::LocalRecords() {
  // Read before the records: a change after this point moves the version again, so records
  // are never kept under a version newer than they are.
  uint64_t version = LocalVersion();
  std::lock_guard lock(records_mu_);
  if (records_ != nullptr && records_version_ == version) return records_;
  auto images = metadata_.ListImages();
  if (!images) return Error(images.error());
  records_ = std::make_shared<const std::vector<metadata::ImageRecord>>(std::move(*images));
  records_version_ = version;
  return records_;
}

Result<std::vector<LocalImage>> ImageService::ListLocal(const std::string& type,
                                                        const std::string& filter_text) {
  return ListLocal(type, filter_text, queue_.BusyNames());
}

Result<std::vector<LocalImage>> ImageService::ListLocal(
    const std::string& type, const std::string& filter_text,
    const std::set<std::pair<std::string, std::string>>& downloading) {
  auto images = LocalRecords();
  if (!images) return Error(images.error());
  const std::string needle = Lower(filter_text);
  std::map<std::pair<std::string, std::string>, LocalImage> groups;  // (display, type)
  std::map<std::pair<std::string, std::string>, std::string> canonical;
  for (const auto& image : **images) {
    if (!type.empty() && image.type != type) continue;
    if (!needle.empty() && !Contains(image.display_name, needle) &&
        !Contains(image.description, needle)) {
      continue;
    }
    auto key = std::make_pair(image.display_name, image.type);
    LocalImage& group = groups[key];
    if (group.name.empty()) {
      group.type = image.type;
      group.name = image.display_name;
      canonical[key] = image.name;
    }
    if (group.description.empty()) group.description = image.description;
    if (group.icon.empty()) group.icon = image.icon;
    group.tags.push_back(image.tag);
    group.sizes.push_back(image.size);
  }
  std::vector<LocalImage> out;
  for (auto& [key, group] : groups) {
    // Tags in byte-wise order, sizes kept aligned.
    std::vector<size_t> order(group.tags.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return group.tags[a] < group.tags[b]; });
    LocalImage sorted = group;
    for (size_t i = 0; i < order.size(); ++i) {
      sorted.tags[i] = group.tags[order[i]];
      sorted.sizes[i] = group.sizes[order[i]];
    }
    sorted.downloading = downloading.contains({group.type, canonical[key]});
    out.push_back(std::move(sorted));
  }
  return out;
}

Result<LocalState> ImageService::Snapshot() {
  auto images = LocalRecords();
  if (!images) return Error(images.error());
  LocalState state;
  for (const auto& image : **images) state.installed[{image.type, image.name}].push_back(image.tag);
  state.downloading = queue_.BusyNames();
  return state;
}

Result<std::string> ImageService::CanonicalName(const std::string& name) {
  auto ref = ParseImage(name, "latest");
  if (!ref) return Error(ref.error());
  return ref->Name();
}

Result<nlohmann::json> ImageService::Inspect(const std::string& name, const std::string& tag) {
  auto ref = ParseImage(name, tag);
  if (!ref) return Error(ref.error());
  const std::string key_tag = ref->tag.empty() ? ref->digest : ref->tag;
  const std::string key_name = ref->Name();
  // From the records kept in memory (no turn of the metadata store's lock per request).
  auto all = LocalRecords();
  if (!all) return Error(all.error());
  auto find = [&](const std::vector<metadata::ImageRecord>& records) {
    auto it = std::find_if(records.begin(), records.end(), [&](const auto& r) {
      return r.type == "docker" && r.name == key_name && r.tag == key_tag;
    });
    return it == records.end() ? nullptr : &*it;
  };
  const metadata::ImageRecord* image = find(**all);
  if (image == nullptr) {
    auto stored = metadata_.GetImage("docker", key_name, key_tag);
    if (!stored) return Error(stored.error());
    if (!*stored) return NotFound("Image not found: " + ref->FamiliarString());
    // Committed a moment ago, not yet in the records: read them from the store itself.
    auto fresh = metadata_.ListImages();
    if (!fresh) return Error(fresh.error());
    *all = std::make_shared<const std::vector<metadata::ImageRecord>>(std::move(*fresh));
    image = find(**all);
    if (image == nullptr) return NotFound("Image not found: " + ref->FamiliarString());
  }
  auto digest = Digest::Parse(image->config_digest);
  if (!digest) return Error(digest.error());
  auto config = store_.Read(*digest);
  if (!config) return Error(config.error());

  InspectFacts facts{*config, image->config_digest, {}, {}, image->size};
  std::set<std::string> repo_digests;
  for (const auto& other : **all) {
    if (other.type != "docker" || other.config_digest != image->config_digest) continue;
    // A record kept under a digest ("name@sha256:...") is a RepoDigest, not a tag.
    if (!other.tag.starts_with("sha256:")) {
      facts.repo_tags.push_back(other.display_name + ":" + other.tag);
    }
    repo_digests.insert(other.display_name + "@" + RepoDigestOf(other));
  }
  facts.repo_digests.assign(repo_digests.begin(), repo_digests.end());
  return BuildInspect(facts);
}

Result<nlohmann::json> ImageService::RemoteInspect(const std::string& name, const std::string& tag,
                                                   const std::function<bool()>& cancelled) {
  auto ref = ParseImage(name, tag);
  if (!ref) return Error(ref.error());
  // Past the name, every failure is the registry's: a 502 carrying its message (an
  // authentication refusal included, which must not read as this API's own 401), except
  // "no such image or tag", a 404.
  auto upstream = [](Status status) {
    if (status.code != Code::kNotFound && status.code != Code::kCancelled &&
        status.code != Code::kInternal) {
      status.code = Code::kUnavailable;
    }
    return Error(std::move(status));
  };
  auto resolved = registry::ResolveManifest(client_, *ref, platform_, cancelled);
  if (!resolved) return upstream(resolved.error());
  const oci::Manifest& manifest = resolved->parsed;
  auto config = client_.GetSmallBlob(*ref, manifest.config.digest, cancelled);
  if (!config) return upstream(config.error());
  int64_t size = 0;  // compressed, as the registry stores it: nothing is unpacked here
  for (const auto& layer : manifest.layers) size += layer.size;
  std::vector<std::string> repo_tags;
  if (ref->digest.empty()) repo_tags.push_back(ref->FamiliarString());
  InspectFacts facts{*config,
                     manifest.config.digest.str(),
                     repo_tags,
                     {ref->Familiar() + "@" + resolved->digest.str()},
                     size};
  auto view = BuildInspect(facts);
  if (!view) return upstream(view.error());
  (*view)["Digest"] = resolved->digest.str();
  std::string media_type = resolved->media_type;
  if (media_type.empty() || media_type == "application/json") {
    if (!resolved->index) media_type = manifest.media_type;
  }
  (*view)["MediaType"] = media_type;
  return view;
}

Result<TagList> ImageService::Tags(const std::string& name, bool official,
                                   const std::function<bool()>& cancelled) {
  std::string full = official && name.find('/') == std::string::npos ? "library/" + name : name;
  auto ref = ParseImage(full, "latest");
  if (!ref) return Error(ref.error());
  auto tags = client_.ListTags(*ref, cancelled);
  if (!tags && tags.error().code == Code::kNotFound) {
    return NotFound("Repository not found: " + ref->Familiar());
  }
  // Docker Hub answers 401 for a repository that does not exist, as for a private one; like
  // Docker, say both. A 401 must not reach the API's client, for whom it means "log in".
  if (!tags && (tags.error().code == Code::kUnauthenticated ||
                tags.error().code == Code::kPermissionDenied)) {
    return NotFound("Repository not found or access denied: " + ref->Familiar() + " (" +
                    tags.error().message + ")");
  }
  if (!tags) return Error(tags.error());
  TagList out;
  out.tags = std::move(*tags);
  SortTags(out.tags);
  auto images = LocalRecords();
  if (!images) return Error(images.error());
  for (const auto& image : **images) {
    if (image.type == "docker" && image.name == ref->Name()) out.installed.push_back(image.tag);
  }
  SortTags(out.installed);
  return out;
}

Result<void> ImageService::Download(const DownloadRequest& request) {
  static const std::set<std::string> kSources = {"dockerhub", "appcenter", "qnap"};
  if (!kSources.contains(request.source)) {
    return InvalidArgument("repository must be dockerhub, appcenter or qnap, not \"" +
                           request.source + "\"");
  }
  if (request.type == "lxc") return DownloadLxc(request);
  if (request.type != "docker") {
    return InvalidArgument("image_type must be docker or lxc, not \"" + request.type + "\"");
  }
  auto ref = ParseImage(request.name, request.tag);
  if (!ref) return Error(ref.error());
  metadata::JobRecord job;
  job.type = "docker";
  job.name = ref->Name();
  job.tag = ref->tag.empty() ? ref->digest : ref->tag;
  job.display_name = ref->Familiar();
  job.source = request.source;
  job.description = request.description;
  job.location = request.location;
  job.icon = request.icon;
  return queue_.Submit(std::move(job));
}

// LXC images come only from the appcenter catalog: a name it lacks is NotFound at once. The
// tag is "latest" (the newest build) or a build serial ("20240101_05:24").
Result<void> ImageService::DownloadLxc(const DownloadRequest& request) {
  if (request.source == "dockerhub") {
    return InvalidArgument("repository must be appcenter or qnap for lxc images");
  }
  const std::string& tag = request.tag;
  if (tag.empty() || tag.size() > 64 || tag.front() == '.' || tag.front() == '-' ||
      tag.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") !=
          std::string::npos) {
    return InvalidArgument("image_tag: \"" + tag + "\" is neither latest nor a build serial");
  }
  auto catalog = depots_ != nullptr ? depots_->Appcenter() : nullptr;
  const depot::CatalogEntry* entry = catalog ? catalog->Find("lxc", request.name) : nullptr;
  if (entry == nullptr) return NotFound("Image not found: " + request.name);
  metadata::JobRecord job;
  job.type = "lxc";
  job.name = entry->name;
  job.tag = tag;
  job.display_name = entry->name;
  job.source = request.source;
  job.description = request.description.empty() ? entry->description : request.description;
  job.location = request.location;
  job.icon = !request.icon.empty()        ? request.icon
             : !entry->icon.empty()       ? entry->icon
             : !entry->icon_local.empty() ? "/icons/" + entry->icon_local
                                          : "";
  return queue_.Submit(std::move(job));
}

std::vector<pull::JobView> ImageService::DownloadStatus() { return queue_.List(); }

Result<void> ImageService::Delete(const std::string& type, const std::string& name,
                                  const std::string& tag) {
  if (type != "docker" && type != "lxc") {
    return InvalidArgument("image_type must be docker or lxc, not \"" + type + "\"");
  }
  std::string canonical = name;
  std::string shown = tag.empty() ? name : name + ":" + tag;
  std::string key_tag = tag;
  if (type == "lxc") {
    // LXC names have no ':' but build serials do ("20240101_05:24"), and the route splits
    // NAME:TAG at the last ':', so split again at the first.
    size_t colon = shown.find(':');
    canonical = shown.substr(0, colon);
    key_tag = colon == std::string::npos ? "" : shown.substr(colon + 1);
  } else {
    auto ref = ParseImage(name, tag.empty() ? "latest" : tag);
    if (!ref) return Error(ref.error());
    canonical = ref->Name();
    shown = tag.empty() ? ref->Familiar() : ref->FamiliarString();
    if (!tag.empty()) key_tag = ref->tag.empty() ? ref->digest : ref->tag;
  }
  if (queue_.Busy(type, canonical, key_tag)) {
    return Conflict("Image is downloading: " + shown);
  }
  auto deleted = metadata_.DeleteImages(type, canonical, key_tag);
  ++local_changes_;  // also on failure: the transaction may have committed
  if (!deleted) return Error(deleted.error());
  if (deleted->empty()) return NotFound("Image not found: " + shown);
  for (const auto& image : *deleted) {
    spdlog::info("deleted {}:{}", LogSafe(image.display_name), LogSafe(image.tag));
    if (events_ != nullptr) {
      events_->Publish("image", nlohmann::json{{"action", "removed"},
                                               {"type", image.type},
                                               {"name", image.display_name},
                                               {"tag", image.tag}}
                                    .dump());
    }
  }
  if (type == "lxc" && lxc_cache_ != nullptr) {
    auto remaining = metadata_.ListImages();
    if (remaining) {
      lxc_cache_->Forget(*deleted, *remaining, store_);
    } else {
      spdlog::warn("LXC cache not updated: {}", remaining.error().message);
    }
  }
  CollectGarbage();
  return RefreshLayoutIndex();
}

Result<void> ImageService::CancelDownload(const std::string& type, const std::string& name,
                                          const std::string& tag) {
  if (type != "docker" && type != "lxc") {
    return InvalidArgument("image_type must be docker or lxc, not \"" + type + "\"");
  }
  if (type == "lxc") return queue_.Cancel(type, name, tag.empty() ? "latest" : tag);
  auto ref = ParseImage(name, tag);
  if (!ref) return Error(ref.error());
  return queue_.Cancel(type, ref->Name(), ref->tag.empty() ? ref->digest : ref->tag);
}

int64_t ImageService::StoreBytes() {
  int64_t total = 0;
  for (const auto& digest : store_.List()) {
    if (auto size = store_.Size(digest)) total += *size;
  }
  return total;
}

void ImageService::OnJobEnded(bool committed) {
  // A commit is already counted by the queue; a failed job may have recorded its image
  // before failing (e.g. deleting its job record).
  ++local_changes_;
  if (committed) {
    if (auto s = RefreshLayoutIndex(); !s) {
      spdlog::error("cannot rewrite index.json: {}", s.error().message);
    }
  }
  // Also after a commit: a new build under the same tag ("latest") frees the old one's blobs.
  CollectGarbage();
}

Result<void> ImageService::RefreshLayoutIndex() {
  std::lock_guard lock(index_mu_);
  // Every change moves LocalVersion() before its caller gets here, so these are current.
  auto images = LocalRecords();
  if (!images) return Error(images.error());
  std::vector<content::BlobStore::IndexEntry> entries;
  for (const auto& image : **images) {
    if (image.type != "docker") continue;
    auto digest = Digest::Parse(image.manifest_digest);
    if (!digest) continue;
    entries.push_back({*digest, image.manifest_media_type, image.manifest_size,
                       image.display_name + ":" + image.tag, image.name + ":" + image.tag});
  }
  return store_.WriteIndex(entries);
}

void ImageService::CollectGarbage() {
  pins_.Collect([&](const std::set<std::string>& pinned) {
    auto referenced = metadata_.ReferencedBlobs();
    if (!referenced) {
      spdlog::error("garbage collection skipped: {}", referenced.error().message);
      return;
    }
    std::set<Digest> keep;
    for (const auto& d : pinned) {
      if (auto digest = Digest::Parse(d)) keep.insert(*digest);
    }
    int removed = 0;
    for (const auto& digest : store_.List()) {
      if (keep.contains(digest) || referenced->contains(digest.str())) continue;
      if (auto s = store_.Delete(digest); !s) {
        spdlog::warn("cannot delete blob {}: {}", digest.str(), s.error().message);
      } else {
        ++removed;
      }
    }
    store_.RemovePartials(keep);
    if (removed > 0) spdlog::info("garbage collection removed {} blobs", removed);
  });
}

}  // namespace wharf::service
