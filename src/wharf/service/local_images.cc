#include "wharf/service/local_images.h"

#include <algorithm>

#include "wharf/base/strings.h"
#include "wharf/service/image_names.h"
#include "wharf/service/inspect_view.h"

namespace wharf::service {

namespace {

std::string RepoDigestOf(const metadata::ImageRecord& image) {
  auto extra = nlohmann::json::parse(image.extra, nullptr, false);
  if (extra.is_object() && extra.contains("repo_digest") && extra["repo_digest"].is_string()) {
    return extra["repo_digest"].get<std::string>();
  }
  return image.manifest_digest;
}

// Tags in byte-wise order, sizes kept aligned.
void SortAligned(LocalImage& image) {
  std::vector<size_t> order(image.tags.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return image.tags[a] < image.tags[b]; });
  LocalImage sorted = image;
  for (size_t i = 0; i < order.size(); ++i) {
    sorted.tags[i] = image.tags[order[i]];
    sorted.sizes[i] = image.sizes[order[i]];
    sorted.updates[i] = image.updates[order[i]];
    if (!image.ids.empty()) sorted.ids[i] = image.ids[order[i]];
    if (!image.created.empty()) sorted.created[i] = image.created[order[i]];
  }
  image = std::move(sorted);
}

// The `created` of a Docker image's config, "" when it has none or cannot be read.
std::string CreatedOf(const content::BlobStore& store, const metadata::ImageRecord& image) {
  auto digest = Digest::Parse(image.config_digest);
  if (!digest) return "";
  auto config = store.Read(*digest);
  if (!config) return "";
  auto json = nlohmann::json::parse(*config, nullptr, false);
  auto created = json.is_object() ? json.find("created") : json.end();
  return created != json.end() && created->is_string() ? created->get<std::string>() : "";
}

}  // namespace

LocalImages::LocalImages(content::BlobStore& store, metadata::ImageStore& images,
                         const pull::ImageChanges& changes)
    : store_(store), images_(images), changes_(changes) {}

Result<LocalImages::Records> LocalImages::All() {
  // Read before the records: a change after this point moves the version again, so records
  // are never kept under a version newer than they are.
  uint64_t version = Version();
  std::lock_guard lock(records_mu_);
  if (records_ != nullptr && records_version_ == version) return records_;
  WHARF_ASSIGN_OR_RETURN(auto images, images_.List());
  records_ = std::make_shared<const std::vector<metadata::ImageRecord>>(std::move(images));
  records_version_ = version;
  return records_;
}

Result<std::vector<LocalImage>> LocalImages::List(const std::string& type,
                                                  const std::string& filter_text,
                                                  const NameSet& downloading,
                                                  const TagSet& updates) {
  auto images = All();
  if (!images) return Error(images.error());
  std::map<std::pair<std::string, std::string>, LocalImage> groups;  // (display, type)
  std::map<std::pair<std::string, std::string>, std::string> canonical;
  for (const auto& image : **images) {
    if (!type.empty() && image.type != type) continue;
    if (!filter_text.empty() && !ContainsIgnoreCase(image.display_name, filter_text) &&
        !ContainsIgnoreCase(image.description, filter_text)) {
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
    group.updates.push_back(updates.contains({image.type, image.name, image.tag}));
    if (image.type == "docker") {
      group.ids.push_back(image.config_digest);
      group.created.push_back(CreatedOf(store_, image));
    }
  }
  std::vector<LocalImage> out;
  for (auto& [key, group] : groups) {
    SortAligned(group);
    group.downloading = downloading.contains({group.type, canonical[key]});
    out.push_back(std::move(group));
  }
  return out;
}

Result<LocalState> LocalImages::State(NameSet downloading) {
  auto images = All();
  if (!images) return Error(images.error());
  LocalState state;
  for (const auto& image : **images) state.installed[{image.type, image.name}].push_back(image.tag);
  state.downloading = std::move(downloading);
  return state;
}

Result<LocalImages::Found> LocalImages::Find(const std::string& name, const std::string& tag) {
  WHARF_ASSIGN_OR_RETURN(auto ref, ParseImage(name, tag));
  const std::string key_tag = ref.tag.empty() ? ref.digest : ref.tag;
  const std::string key_name = ref.Name();
  // From the records kept in memory (no turn of the database's lock per request).
  auto all = All();
  if (!all) return Error(all.error());
  auto find = [&](const std::vector<metadata::ImageRecord>& records) {
    auto it = std::find_if(records.begin(), records.end(), [&](const auto& r) {
      return r.type == "docker" && r.name == key_name && r.tag == key_tag;
    });
    return it == records.end() ? nullptr : &*it;
  };
  const metadata::ImageRecord* image = find(**all);
  if (image == nullptr) {
    auto stored = images_.Get("docker", key_name, key_tag);
    if (!stored) return Error(stored.error());
    if (!*stored) return NotFound("Image not found: " + ref.FamiliarString());
    // Committed a moment ago, not yet in the records: read them from the store itself.
    WHARF_ASSIGN_OR_RETURN(auto fresh, images_.List());
    *all = std::make_shared<const std::vector<metadata::ImageRecord>>(std::move(fresh));
    image = find(**all);
    if (image == nullptr) return NotFound("Image not found: " + ref.FamiliarString());
  }
  return Found{*all, image};
}

Result<nlohmann::json> LocalImages::Inspect(const std::string& name, const std::string& tag) {
  WHARF_ASSIGN_OR_RETURN(auto found, Find(name, tag));
  const auto& all = found.records;
  const metadata::ImageRecord* image = found.image;
  WHARF_ASSIGN_OR_RETURN(auto digest, Digest::Parse(image->config_digest));
  WHARF_ASSIGN_OR_RETURN(auto config, store_.Read(digest));

  InspectFacts facts{config, image->config_digest, {}, {}, image->size};
  std::set<std::string> repo_digests;
  for (const auto& other : *all) {
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

Result<std::vector<std::string>> LocalImages::Tags(const std::string& name) {
  auto images = All();
  if (!images) return Error(images.error());
  std::vector<std::string> tags;
  for (const auto& image : **images) {
    if (image.type == "docker" && image.name == name) tags.push_back(image.tag);
  }
  SortTags(tags);
  return tags;
}

int64_t LocalImages::StoreBytes() {
  int64_t total = 0;
  for (const auto& digest : store_.List()) {
    if (auto size = store_.Size(digest)) total += *size;
  }
  return total;
}

}  // namespace wharf::service
