// ArchiveImages (archive_import.h): the images a staged archive describes, from its
// index.json (OCI) or manifest.json (docker).
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "wharf/registry/manifest_resolver.h"
#include "wharf/service/archive_import.h"

namespace wharf::service {

namespace {

using Json = nlohmann::json;

constexpr int kMaxLinkHops = 8;

// The file at `path`, links followed.
Result<const StagedFile*> FileAt(const StagedArchive& archive, std::string path,
                                 const std::string& what) {
  for (int hop = 0; hop <= kMaxLinkHops; ++hop) {
    if (auto it = archive.files.find(path); it != archive.files.end()) return &it->second;
    auto link = archive.links.find(path);
    if (link == archive.links.end()) break;
    if (link->second.empty()) {
      return InvalidArgument(what + " " + path + " is a symlink that leads out of the archive");
    }
    path = link->second;
  }
  return InvalidArgument(what + " " + path + " is missing from the archive");
}

Result<const StagedFile*> BlobOf(const StagedArchive& archive, const Digest& digest,
                                 const std::string& what) {
  auto it = archive.by_digest.find(digest);
  if (it == archive.by_digest.end()) {
    return InvalidArgument(what + " " + digest.str() + " is missing from the archive");
  }
  return it->second;
}

Result<Json> ParseJson(const std::string& text, const std::string& what) {
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return InvalidArgument(what + " in the archive is not valid JSON");
  return json;
}

// The image's names: a full reference ("busybox:1.36", "docker.io/library/busybox:latest"),
// else the untagged name when there is one. InvalidArgument when none.
Result<std::vector<reference::Reference>> NamesOf(const std::vector<std::string>& refs,
                                                  const std::string& image,
                                                  const ArchiveImportOptions& options) {
  std::vector<reference::Reference> names;
  for (const auto& text : refs) {
    auto ref = reference::Parse(text);
    if (!ref)
      return InvalidArgument("image " + image + " is named " + text + ": " + ref.error().message);
    if (ref->tag.empty()) continue;  // by digest only: no tag to list it under
    names.push_back(*ref);
  }
  if (names.empty() && options.untagged_name) names.push_back(*options.untagged_name);
  if (names.empty()) {
    return InvalidArgument("image " + image +
                           " in the archive has no name: import it with ?tag=NAME:TAG");
  }
  return names;
}

// The records of one image under each of its names.
Result<std::vector<metadata::ImageRecord>> Records(const StagedArchive& archive,
                                                   const content::BlobStore& store,
                                                   const Digest& manifest_digest,
                                                   const std::string& media_type,
                                                   const std::vector<reference::Reference>& names) {
  WHARF_ASSIGN_OR_RETURN(auto body, store.Read(manifest_digest));
  WHARF_ASSIGN_OR_RETURN(oci::Manifest manifest, oci::ParseManifest(body));
  WHARF_ASSIGN_OR_RETURN(const StagedFile* config_file,
                         BlobOf(archive, manifest.config.digest, "config"));
  WHARF_ASSIGN_OR_RETURN(auto config_body, store.Read(config_file->digest));
  WHARF_ASSIGN_OR_RETURN(oci::ImageConfig config, oci::ParseConfig(config_body));
  if (config.diff_ids.size() != manifest.layers.size()) {
    return InvalidArgument(
        "image " + manifest_digest.str() + " has " + std::to_string(manifest.layers.size()) +
        " layers but its config lists " + std::to_string(config.diff_ids.size()) + " diff_ids");
  }
  metadata::ImageRecord image;
  image.type = "docker";
  image.manifest_digest = manifest_digest.str();
  image.manifest_media_type = manifest.media_type.empty() ? media_type : manifest.media_type;
  image.manifest_size = static_cast<int64_t>(body.size());
  image.config_digest = manifest.config.digest.str();
  image.architecture = config.architecture;
  image.os = config.os;
  image.blobs = {image.manifest_digest, image.config_digest};
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    WHARF_ASSIGN_OR_RETURN(const StagedFile* layer,
                           BlobOf(archive, manifest.layers[i].digest, "layer"));
    if (layer->diff_id != config.diff_ids[i]) {
      return InvalidArgument("layer " + layer->digest.str() + " unpacks to " +
                             layer->diff_id.str() + " but the config expects " +
                             config.diff_ids[i].str());
    }
    image.size += layer->uncompressed_size;
    image.blobs.push_back(layer->digest.str());
  }
  std::vector<metadata::ImageRecord> out;
  for (const auto& ref : names) {
    metadata::ImageRecord named = image;
    named.name = ref.Name();
    named.display_name = ref.Familiar();
    named.tag = ref.tag;
    out.push_back(std::move(named));
  }
  return out;
}

bool IsIndexMediaType(std::string_view media_type) {
  return media_type == oci::kOciIndex || media_type == oci::kDockerManifestList;
}

// The walk from an index.json entry to the platform's image manifest. Indexes nest as
// containerd allows (and as the registry's resolver follows them): an index's entries with a
// platform are chosen first; only when none matches are its nested indexes (entries without
// a platform) followed, in order; at most registry::kMaxIndexDepth levels of index.
class IndexWalk {
 public:
  IndexWalk(const StagedArchive& archive, const content::BlobStore& store,
            const oci::Platform& platform)
      : archive_(archive), store_(store), platform_(platform) {}

  Result<oci::Descriptor> From(const oci::Descriptor& entry) {
    WHARF_ASSIGN_OR_RETURN(auto found, Follow(entry, 0, /*platform_known=*/true));
    if (found) return *found;
    // ChoosePlatform's message over the entries of every level.
    auto matching = oci::ChoosePlatform(oci::Index{{}, seen_}, platform_);
    const std::string why = matching ? "no image for " + oci::Normalize(platform_).String() +
                                           " (its entry " + matching->digest.str() +
                                           " is an index without it)"
                                     : matching.error().message;
    return InvalidArgument("index " + entry.digest.str() + " in the archive: " + why);
  }

 private:
  // What `entry` leads to, `depth` levels of index below index.json; nullopt when the
  // platform is not under it. An image manifest is taken only if its entry named a platform
  // that matches (or is an entry of index.json).
  Result<std::optional<oci::Descriptor>> Follow(const oci::Descriptor& entry, int depth,
                                                bool platform_known) {
    WHARF_RETURN_IF_ERROR(BlobOf(archive_, entry.digest, "manifest"));
    WHARF_ASSIGN_OR_RETURN(auto body, store_.Read(entry.digest));
    WHARF_ASSIGN_OR_RETURN(auto kind, oci::ClassifyManifest(entry.media_type, body));
    if (kind == oci::ManifestKind::kImage) {
      return platform_known ? std::optional<oci::Descriptor>(entry) : std::nullopt;
    }
    if (depth + 1 >= registry::kMaxIndexDepth) {
      return InvalidArgument("index " + entry.digest.str() +
                             " in the archive nests indexes too deeply");
    }
    WHARF_ASSIGN_OR_RETURN(auto index, oci::ParseIndex(body));
    oci::Index platforms{index.media_type, {}};
    std::vector<oci::Descriptor> nested;
    for (const oci::Descriptor& desc : index.manifests) {
      if (desc.platform) {
        platforms.manifests.push_back(desc);
        seen_.push_back(desc);
      } else if (IsIndexMediaType(desc.media_type)) {
        nested.push_back(desc);
      }
    }
    if (auto chosen = oci::ChoosePlatform(platforms, platform_)) {
      return Follow(*chosen, depth + 1, /*platform_known=*/true);
    }
    for (const oci::Descriptor& desc : nested) {
      auto found = Follow(desc, depth + 1, /*platform_known=*/false);
      if (!found || *found) return found;
    }
    return std::nullopt;
  }

  const StagedArchive& archive_;
  const content::BlobStore& store_;
  const oci::Platform& platform_;
  std::vector<oci::Descriptor> seen_;  // entries with a platform, every level, in walk order
};

Result<std::vector<metadata::ImageRecord>> OciImages(const StagedArchive& archive,
                                                     const content::BlobStore& store,
                                                     const ArchiveImportOptions& options) {
  auto index = oci::ParseIndex(archive.metadata.at("index.json"));
  if (!index) return InvalidArgument("index.json in the archive: " + index.error().message);
  std::vector<metadata::ImageRecord> out;
  for (const auto& entry : index->manifests) {
    std::vector<std::string> refs;
    auto annotation = [&](const char* key) -> std::string {
      auto it = entry.annotations.find(key);
      return it == entry.annotations.end() ? "" : it->second;
    };
    std::string full = annotation("io.containerd.image.name");
    std::string ref_name = annotation("org.opencontainers.image.ref.name");
    if (!full.empty()) {
      refs.push_back(full);
    } else if (ref_name.find_first_of("/:@") != std::string::npos) {
      refs.push_back(ref_name);
    }
    std::vector<reference::Reference> names;
    if (refs.empty() && !ref_name.empty() && reference::IsValidTag(ref_name) &&
        options.untagged_name) {
      reference::Reference named = *options.untagged_name;
      names.push_back(named);
    } else {
      WHARF_ASSIGN_OR_RETURN(names, NamesOf(refs, entry.digest.str(), options));
    }
    WHARF_ASSIGN_OR_RETURN(auto chosen, IndexWalk(archive, store, options.platform).From(entry));
    WHARF_ASSIGN_OR_RETURN(auto records,
                           Records(archive, store, chosen.digest, chosen.media_type, names));
    for (auto& record : records) out.push_back(std::move(record));
  }
  if (out.empty()) return InvalidArgument("index.json in the archive lists no image");
  return out;
}

std::string_view LayerMediaType(oci::Compression compression) {
  switch (compression) {
    case oci::Compression::kGzip:
      return "application/vnd.oci.image.layer.v1.tar+gzip";
    case oci::Compression::kZstd:
      return "application/vnd.oci.image.layer.v1.tar+zstd";
    case oci::Compression::kNone:
      break;
  }
  return "application/vnd.oci.image.layer.v1.tar";
}

// Writes the OCI image manifest of a docker archive's image; returns its digest.
Result<Digest> BuildManifest(const StagedArchive& archive, content::BlobStore& store,
                             pull::BlobPins::Lease& lease, const Json& image) {
  if (!image.is_object() || !image.contains("Config") || !image["Config"].is_string() ||
      !image.contains("Layers") || !image["Layers"].is_array()) {
    return InvalidArgument("manifest.json in the archive: an image without Config or Layers");
  }
  WHARF_ASSIGN_OR_RETURN(const StagedFile* config,
                         FileAt(archive, image["Config"].get<std::string>(), "config"));
  Json layers = Json::array();
  for (const auto& path : image["Layers"]) {
    if (!path.is_string()) return InvalidArgument("manifest.json in the archive: a bad layer");
    WHARF_ASSIGN_OR_RETURN(const StagedFile* layer,
                           FileAt(archive, path.get<std::string>(), "layer"));
    layers.push_back({{"mediaType", LayerMediaType(layer->compression)},
                      {"digest", layer->digest.str()},
                      {"size", layer->size}});
  }
  Json manifest = {
      {"schemaVersion", 2},
      {"mediaType", oci::kOciManifest},
      {"config",
       {{"mediaType", oci::kOciConfig}, {"digest", config->digest.str()}, {"size", config->size}}},
      {"layers", layers}};
  const std::string body = manifest.dump();
  const Digest digest = Digest::Of(body);
  lease.Add({digest.str()});
  WHARF_RETURN_IF_ERROR(store.Put(digest, body));
  return digest;
}

Result<std::vector<metadata::ImageRecord>> DockerImages(StagedArchive archive,
                                                        content::BlobStore& store,
                                                        pull::BlobPins::Lease& lease,
                                                        const ArchiveImportOptions& options) {
  WHARF_ASSIGN_OR_RETURN(Json images,
                         ParseJson(archive.metadata.at("manifest.json"), "manifest.json"));
  if (!images.is_array() || images.empty()) {
    return InvalidArgument("manifest.json in the archive lists no image");
  }
  std::vector<metadata::ImageRecord> out;
  for (const auto& image : images) {
    WHARF_ASSIGN_OR_RETURN(Digest digest, BuildManifest(archive, store, lease, image));
    StagedFile built{.digest = digest};
    archive.by_digest[digest] = &built;
    std::vector<std::string> tags;
    if (image.contains("RepoTags") && image["RepoTags"].is_array()) {
      for (const auto& tag : image["RepoTags"]) {
        if (tag.is_string()) tags.push_back(tag.get<std::string>());
      }
    }
    WHARF_ASSIGN_OR_RETURN(auto names, NamesOf(tags, image["Config"].get<std::string>(), options));
    WHARF_ASSIGN_OR_RETURN(auto records,
                           Records(archive, store, digest, std::string(oci::kOciManifest), names));
    archive.by_digest.erase(digest);
    for (auto& record : records) out.push_back(std::move(record));
  }
  return out;
}

}  // namespace

Result<std::vector<metadata::ImageRecord>> ArchiveImages(const StagedArchive& archive,
                                                         content::BlobStore& store,
                                                         pull::BlobPins::Lease& lease,
                                                         const ArchiveImportOptions& options) {
  if (archive.metadata.contains("index.json")) return OciImages(archive, store, options);
  if (archive.metadata.contains("manifest.json")) {
    return DockerImages(archive, store, lease, options);
  }
  return InvalidArgument(
      "the archive has no manifest.json (docker save) nor index.json (OCI layout)");
}

}  // namespace wharf::service
