// Test-only: image archives built by hand for the ArchiveImport tests (a tar writer with
// files, directories, symlinks and hard links; layers and configs; the docker layouts and the
// OCI layout), and a fixture that imports them into a blob store in a temporary directory,
// checking after every import that no upload's temp file and no pin is left behind.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/archive/tar_header.h"
#include "wharf/base/digest.h"
#include "wharf/content/blob_store.h"
#include "wharf/content/gzip_test_util.h"
#include "wharf/pull/blob_pins.h"
#include "wharf/registry/test_registry.h"
#include "wharf/service/archive_import.h"

namespace wharf::service {

// Writes a tar archive entry by entry: ustar headers (archive::TarHeader), contents padded.
class TarWriter {
 public:
  TarWriter& File(std::string_view name, std::string_view content) {
    out_ +=
        *archive::TarHeader(name, static_cast<int64_t>(content.size()), archive::TarEntry::kFile);
    out_ += content;
    out_.append(static_cast<size_t>(archive::TarPadding(static_cast<int64_t>(content.size()))),
                '\0');
    return *this;
  }
  TarWriter& Dir(std::string_view name) {
    out_ += *archive::TarHeader(name, 0, archive::TarEntry::kDirectory);
    return *this;
  }
  TarWriter& Symlink(std::string_view name, std::string_view target) {
    return Link(name, target, '2');
  }
  TarWriter& Hardlink(std::string_view name, std::string_view target) {
    return Link(name, target, '1');
  }
  // The archive with its two zero blocks, or without them.
  std::string Finish() const { return out_ + std::string(2 * archive::kTarBlock, '\0'); }
  const std::string& unended() const { return out_; }

 private:
  TarWriter& Link(std::string_view name, std::string_view target, char type) {
    std::string h = *archive::TarHeader(name, 0, archive::TarEntry::kFile);
    h[156] = type;
    std::memcpy(h.data() + 157, target.data(), std::min<size_t>(target.size(), 100));
    std::memset(h.data() + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    std::snprintf(h.data() + 148, 7, "%06o", sum);
    h[155] = ' ';
    out_ += h;
    return *this;
  }
  std::string out_;
};

// A layer: a tar of one file of `bytes` bytes made from `seed`.
inline std::string TestLayer(const std::string& seed, size_t bytes = 3000) {
  std::string content;
  for (uint64_t i = 0; content.size() < bytes; ++i) content += seed + std::to_string(i * i) + ",";
  content.resize(bytes);
  return TarWriter().Dir("etc").File("etc/" + seed, content).Finish();
}

// An image as an archive carries it: its layers (uncompressed) and its config.
struct TestImage {
  std::vector<std::string> layers;
  std::vector<Digest> diff_ids;
  std::string config;
  Digest config_digest;
  int64_t size = 0;  // the sum of the layers' sizes
};

inline TestImage MakeImage(const std::vector<std::string>& seeds,
                           const std::string& architecture = "amd64") {
  TestImage image;
  nlohmann::json diff_ids = nlohmann::json::array();
  for (const auto& seed : seeds) {
    image.layers.push_back(TestLayer(seed));
    image.diff_ids.push_back(Digest::Of(image.layers.back()));
    diff_ids.push_back(image.diff_ids.back().str());
    image.size += static_cast<int64_t>(image.layers.back().size());
  }
  image.config = nlohmann::json{{"architecture", architecture},
                                {"os", "linux"},
                                {"config", {{"Cmd", {"sh"}}}},
                                {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}}
                     .dump();
  image.config_digest = Digest::Of(image.config);
  return image;
}

// `docker save` before Docker 25: <n>/layer.tar (a layer the image repeats as a symlink to
// its first copy), <n>/VERSION and <n>/json, <config hex>.json, repositories, manifest.json
// last.
inline std::string DockerLegacyArchive(const TestImage& image, const nlohmann::json& repo_tags) {
  TarWriter tar;
  nlohmann::json layers = nlohmann::json::array();
  for (size_t i = 0; i < image.layers.size(); ++i) {
    const std::string dir = std::to_string(i + 1);
    size_t first = 0;
    while (image.layers[first] != image.layers[i]) ++first;
    if (first < i) {
      tar.Symlink(dir + "/layer.tar", "../" + std::to_string(first + 1) + "/layer.tar");
    } else {
      tar.Dir(dir).File(dir + "/VERSION", "1.0").File(dir + "/layer.tar", image.layers[i]);
      tar.File(dir + "/json", R"({"id":")" + dir + R"("})");
    }
    layers.push_back(dir + "/layer.tar");
  }
  const std::string config = image.config_digest.hex() + ".json";
  tar.File(config, image.config).File("repositories", "{}");
  nlohmann::json manifest = {{{"Config", config}, {"RepoTags", repo_tags}, {"Layers", layers}}};
  return tar.File("manifest.json", manifest.dump()).Finish();
}

// The layers as an archive may carry them: gzip-compressed at alternating levels, one with a
// member name.
inline std::vector<std::string> GzipLayers(const TestImage& image) {
  std::vector<std::string> out;
  for (size_t i = 0; i < image.layers.size(); ++i) {
    out.push_back(content::Gzip(image.layers[i], i % 2 ? 9 : 1, i == 0 ? "layer.tar" : nullptr));
  }
  return out;
}

// A docker archive whose files are named blobs/sha256/<hex> (as Docker 25 writes them, here
// without index.json), its layers gzip-compressed.
inline std::string DockerBlobsArchive(const TestImage& image, const nlohmann::json& repo_tags) {
  TarWriter tar;
  tar.Dir("blobs").Dir("blobs/sha256");
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& layer : GzipLayers(image)) {
    layers.push_back("blobs/sha256/" + Digest::Of(layer).hex());
    tar.File(layers.back().get<std::string>(), layer);
  }
  const std::string config = "blobs/sha256/" + image.config_digest.hex();
  tar.File(config, image.config);
  nlohmann::json manifest = {{{"Config", config}, {"RepoTags", repo_tags}, {"Layers", layers}}};
  return tar.File("manifest.json", manifest.dump()).Finish();
}

// An OCI image layout being built: its blobs, then the tar with oci-layout and index.json.
struct OciLayout {
  std::map<std::string, std::string> blobs;  // hex -> content

  nlohmann::json Add(const std::string& content, std::string_view media_type) {
    const Digest digest = Digest::Of(content);
    blobs[digest.hex()] = content;
    return {{"mediaType", media_type}, {"digest", digest.str()}, {"size", content.size()}};
  }
  // An image manifest of `image` (its layers gzipped when `gzip`); returns its descriptor.
  nlohmann::json AddImage(const TestImage& image, bool gzip) {
    nlohmann::json layers = nlohmann::json::array();
    const auto gzipped = GzipLayers(image);
    for (size_t i = 0; i < image.layers.size(); ++i) {
      layers.push_back(gzip ? Add(gzipped[i], "application/vnd.oci.image.layer.v1.tar+gzip")
                            : Add(image.layers[i], "application/vnd.oci.image.layer.v1.tar"));
    }
    nlohmann::json manifest = {{"schemaVersion", 2},
                               {"mediaType", oci::kOciManifest},
                               {"config", Add(image.config, oci::kOciConfig)},
                               {"layers", layers}};
    return Add(manifest.dump(), oci::kOciManifest);
  }
  // The archive, index.json listing `manifests` (descriptors, annotated as the test wants).
  std::string Tar(const std::vector<nlohmann::json>& manifests) const {
    TarWriter tar;
    tar.File("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    nlohmann::json index = {{"schemaVersion", 2}, {"manifests", manifests}};
    tar.File("index.json", index.dump()).Dir("blobs").Dir("blobs/sha256");
    for (const auto& [hex, content] : blobs) tar.File("blobs/sha256/" + hex, content);
    return tar.Finish();
  }
};

inline nlohmann::json Annotated(nlohmann::json descriptor,
                                const std::map<std::string, std::string>& annotations) {
  descriptor["annotations"] = annotations;
  return descriptor;
}

class ArchiveImportTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = OpenStore(dir_.path() / "store"); }

  static std::unique_ptr<content::BlobStore> OpenStore(const std::filesystem::path& root) {
    auto store = content::BlobStore::Open(root);
    EXPECT_TRUE(store.has_value()) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

  // Imports `archive` fed in pieces of `piece` bytes (0: whole) into `store` (the fixture's
  // by default). After the import is gone: no upload temp file and no pin remain.
  Result<std::vector<metadata::ImageRecord>> Import(std::string_view archive, size_t piece = 0,
                                                    ArchiveImportOptions options = {},
                                                    content::BlobStore* store = nullptr) {
    if (store == nullptr) store = store_.get();
    Result<std::vector<metadata::ImageRecord>> out = std::vector<metadata::ImageRecord>{};
    {
      ArchiveImport import(*store, pins_, std::move(options));
      if (piece == 0) piece = std::max<size_t>(archive.size(), 1);
      for (size_t at = 0; at < archive.size() && out; at += piece) {
        if (auto fed = import.Feed(archive.substr(at, piece)); !fed) out = Error(fed.error());
      }
      if (out) out = import.Finish();
    }
    EXPECT_EQ(Uploads(*store), std::vector<std::string>{});
    EXPECT_EQ(Pinned(), std::set<std::string>{});
    return out;
  }
  Status ImportError(std::string_view archive, ArchiveImportOptions options = {}) {
    auto out = Import(archive, 0, std::move(options));
    EXPECT_FALSE(out.has_value()) << "imported " << out->size() << " images";
    return out ? Status{} : out.error();
  }

  // The upload temp files in the store's ingest/ (which must exist).
  static std::vector<std::string> Uploads(const content::BlobStore& store) {
    std::vector<std::string> names;
    const auto ingest = store.root() / "ingest";
    EXPECT_TRUE(std::filesystem::is_directory(ingest)) << ingest;
    for (const auto& entry : std::filesystem::directory_iterator(ingest)) {
      const std::string name = entry.path().filename().string();
      if (name.starts_with("upload-")) names.push_back(name);
    }
    return names;
  }
  std::set<std::string> Pinned() {
    std::set<std::string> out;
    pins_.Collect([&](const std::set<std::string>& pinned) { out = pinned; });
    return out;
  }

  registry::testing::TempDir dir_;
  std::unique_ptr<content::BlobStore> store_;
  pull::BlobPins pins_;
};

}  // namespace wharf::service
