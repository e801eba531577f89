#include "wharf/serve/served_images.h"

#include <algorithm>

#include "wharf/base/digest.h"
#include "wharf/reference/reference.h"
#include "wharf/serve/repository_name.h"

namespace wharf::serve {

namespace {

constexpr size_t kMaxManifestBytes = 4 << 20;

DistResult<Digest> ParseDigest(const std::string& text) {
  auto digest = Digest::Parse(text);
  if (!digest) return DistFail(400, "DIGEST_INVALID", "invalid digest \"" + text + "\"");
  return *digest;
}

}  // namespace

ServedImages::ServedImages(service::LocalImages& local, content::BlobStore& store)
    : local_(local), store_(store) {}

ServedImages::~ServedImages() = default;

DistResult<std::shared_ptr<const ServedImages::Index>> ServedImages::Current() {
  std::lock_guard lock(mu_);
  const uint64_t version = local_.Version();
  if (index_ && version_ == version) return index_;
  auto records = local_.All();
  if (!records) return DistFail(500, "UNKNOWN", records.error().message);
  auto index = std::make_shared<Index>();
  for (const auto& image : **records) {
    if (image.type != "docker" || image.manifest_digest.empty()) continue;
    Repo& repo = (*index)[image.name];
    repo.tags[image.tag] = image.manifest_digest;
    repo.media_types[image.manifest_digest] = image.manifest_media_type;
    repo.blobs.insert(image.blobs.begin(), image.blobs.end());
  }
  index_ = std::move(index);
  version_ = version;
  return index_;
}

DistResult<const ServedImages::Repo*> ServedImages::Find(const Index& index,
                                                         const std::string& repository) {
  auto it = index.find(repository);
  if (it == index.end()) {
    return DistFail(404, "NAME_UNKNOWN",
                    "repository " + ServedName(repository) + " is not known to this wharf");
  }
  return &it->second;
}

DistResult<ServedManifest> ServedImages::Manifest(const std::string& repository,
                                                  const std::string& reference) {
  auto index = Current();
  if (!index) return std::unexpected(index.error());
  auto repo = Find(**index, repository);
  if (!repo) return std::unexpected(repo.error());
  std::string digest;
  if (reference.find(':') != std::string::npos) {
    auto parsed = ParseDigest(reference);
    if (!parsed) return std::unexpected(parsed.error());
    digest = parsed->str();
    if (!(*repo)->media_types.contains(digest)) {
      return DistFail(404, "MANIFEST_UNKNOWN",
                      "manifest " + digest + " is not in " + ServedName(repository));
    }
  } else {
    if (!reference::IsValidTag(reference)) {
      return DistFail(400, "TAG_INVALID", "invalid tag \"" + reference + "\"");
    }
    auto tag = (*repo)->tags.find(reference);
    if (tag == (*repo)->tags.end()) {
      return DistFail(404, "MANIFEST_UNKNOWN",
                      "tag " + reference + " of " + ServedName(repository) + " is not stored");
    }
    digest = tag->second;
  }
  auto bytes = store_.Read(*Digest::Parse(digest), kMaxManifestBytes);
  if (!bytes) return DistFail(404, "BLOB_UNKNOWN", bytes.error().message);
  return ServedManifest{digest, (*repo)->media_types.at(digest), std::move(*bytes)};
}

DistResult<ServedBlob> ServedImages::Blob(const std::string& repository,
                                          const std::string& digest) {
  auto parsed = ParseDigest(digest);
  if (!parsed) return std::unexpected(parsed.error());
  auto index = Current();
  if (!index) return std::unexpected(index.error());
  auto repo = Find(**index, repository);
  if (!repo) return std::unexpected(repo.error());
  auto size = store_.Size(*parsed);
  if (!(*repo)->blobs.contains(digest) || !size) {
    return DistFail(404, "BLOB_UNKNOWN", "blob " + digest + " is not in " + ServedName(repository));
  }
  return ServedBlob{store_.BlobPath(*parsed), *size};
}

DistResult<std::vector<std::string>> ServedImages::Tags(const std::string& repository) {
  auto index = Current();
  if (!index) return std::unexpected(index.error());
  auto repo = Find(**index, repository);
  if (!repo) return std::unexpected(repo.error());
  std::vector<std::string> tags;
  for (const auto& [tag, digest] : (*repo)->tags) tags.push_back(tag);
  return tags;
}

DistResult<std::vector<std::string>> ServedImages::Repositories() {
  auto index = Current();
  if (!index) return std::unexpected(index.error());
  std::vector<std::string> names;
  for (const auto& [name, repo] : **index) names.push_back(ServedName(name));
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace wharf::serve
