#include "wharf/archive/layout.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "wharf/reference/reference.h"

namespace wharf::archive {

namespace {

constexpr std::string_view kOciLayout = R"({"imageLayoutVersion":"1.0.0"})";

// "docker.io/library/ubuntu:latest" → "ubuntu:latest"; a name that does not parse as it is.
std::string ShortName(const std::string& full) {
  auto ref = reference::Parse(full);
  return ref ? ref->FamiliarString() : full;
}

nlohmann::json Descriptor(const oci::Descriptor& d) {
  return {{"mediaType", d.media_type}, {"digest", d.digest.str()}, {"size", d.size}};
}

}  // namespace

std::string ArchivePath(const Digest& digest) { return "blobs/sha256/" + digest.hex(); }

Result<ArchiveImage> ImageOfManifest(const content::BlobStore& store, const Digest& manifest,
                                     std::vector<std::string> repo_tags) {
  WHARF_ASSIGN_OR_RETURN(auto raw, store.Read(manifest));
  auto parsed = oci::ParseManifest(raw);
  if (!parsed) {
    return InvalidArgument("manifest " + manifest.str() + ": " + parsed.error().message);
  }
  ArchiveImage image;
  image.repo_tags = std::move(repo_tags);
  image.manifest = {parsed->media_type, manifest, static_cast<int64_t>(raw.size()), {}, {}};
  image.config = parsed->config.digest;
  for (const auto& layer : parsed->layers) image.layers.push_back(layer.digest);
  return image;
}

std::string DockerManifestJson(const std::vector<ArchiveImage>& images) {
  nlohmann::json manifest = nlohmann::json::array();
  for (const auto& image : images) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& layer : image.layers) layers.push_back(ArchivePath(layer));
    manifest.push_back({{"Config", ArchivePath(image.config)},
                        {"RepoTags", image.repo_tags},
                        {"Layers", std::move(layers)}});
  }
  return manifest.dump();
}

std::string OciIndexJson(const std::vector<ArchiveImage>& images) {
  nlohmann::json manifests = nlohmann::json::array();
  for (const auto& image : images) {
    if (image.repo_tags.empty()) manifests.push_back(Descriptor(image.manifest));
    for (const auto& name : image.repo_tags) {
      nlohmann::json d = Descriptor(image.manifest);
      d["annotations"] = {{"io.containerd.image.name", name},
                          {"org.opencontainers.image.ref.name", ShortName(name)}};
      manifests.push_back(std::move(d));
    }
  }
  nlohmann::json index = {
      {"schemaVersion", 2}, {"mediaType", oci::kOciIndex}, {"manifests", std::move(manifests)}};
  return index.dump();
}

std::vector<ArchiveFile> MetadataFiles(const std::vector<ArchiveImage>& images,
                                       ArchiveFormat format) {
  std::vector<ArchiveFile> files;
  if (format == ArchiveFormat::kOci) {
    files.push_back({"oci-layout", std::string(kOciLayout)});
    files.push_back({"index.json", OciIndexJson(images)});
  }
  files.push_back({"manifest.json", DockerManifestJson(images)});
  return files;
}

std::vector<Digest> ArchiveBlobs(const std::vector<ArchiveImage>& images, ArchiveFormat format) {
  std::vector<Digest> blobs;
  auto add = [&](const Digest& d) {
    if (std::ranges::find(blobs, d) == blobs.end()) blobs.push_back(d);
  };
  for (const auto& image : images) {
    if (format == ArchiveFormat::kOci) add(image.manifest.digest);
    add(image.config);
    for (const auto& layer : image.layers) add(layer);
  }
  return blobs;
}

}  // namespace wharf::archive
