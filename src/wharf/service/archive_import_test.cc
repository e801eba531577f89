#include "wharf/service/archive_import.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "wharf/content/gzip_test_util.h"
#include "wharf/oci/image.h"
#include "wharf/service/archive_import_test_util.h"
#include "wharf/service/imports.h"

namespace wharf::service {
namespace {

using Json = nlohmann::json;

// The splits every archive is fed in: a byte at a time, 7 bytes (never block-aligned), whole.
const std::vector<size_t> kPieces = {1, 7, 0};

struct Named {
  std::string name, display, tag;
};

std::set<std::string> Strings(const std::vector<Digest>& digests) {
  std::set<std::string> out;
  for (const auto& d : digests) out.insert(d.str());
  return out;
}

class ArchiveImportRecordsTest : public ArchiveImportTest {
 protected:
  // Checks `r` as the record of `image` under `named`, whose manifest (read from the store)
  // lists `layers`; returns the manifest's body.
  std::string ExpectImage(const metadata::ImageRecord& r, const Named& named,
                          const TestImage& image, const std::vector<Digest>& layers) {
    EXPECT_EQ(r.type, "docker");
    EXPECT_EQ(r.name, named.name);
    EXPECT_EQ(r.display_name, named.display);
    EXPECT_EQ(r.tag, named.tag);
    EXPECT_EQ(r.config_digest, image.config_digest.str());
    EXPECT_EQ(r.architecture, Json::parse(image.config)["architecture"]);
    EXPECT_EQ(r.os, "linux");
    EXPECT_EQ(r.size, image.size);
    std::set<std::string> blobs(r.blobs.begin(), r.blobs.end());
    std::set<std::string> want = Strings(layers);
    want.insert({r.manifest_digest, r.config_digest});
    EXPECT_EQ(blobs, want);
    auto digest = Digest::Parse(r.manifest_digest);
    EXPECT_TRUE(digest.has_value()) << r.manifest_digest;
    if (!digest) return "";
    auto body = store_->Read(*digest);
    EXPECT_TRUE(body.has_value()) << r.manifest_digest << " is not in the store";
    if (!body) return "";
    EXPECT_EQ(r.manifest_size, static_cast<int64_t>(body->size()));
    auto manifest = oci::ParseManifest(*body);
    EXPECT_TRUE(manifest.has_value()) << *body;
    if (!manifest) return *body;
    EXPECT_EQ(manifest->config.digest, image.config_digest);
    std::vector<Digest> listed;
    for (const auto& layer : manifest->layers) listed.push_back(layer.digest);
    EXPECT_EQ(listed, layers);
    for (const auto& blob : r.blobs) {
      EXPECT_TRUE(store_->Has(*Digest::Parse(blob))) << blob << " is not in the store";
    }
    return *body;
  }
};

TEST_F(ArchiveImportRecordsTest, DockerLegacyLayoutWithASymlinkedRepeatedLayer) {
  const TestImage image = MakeImage({"base", "app", "base"});
  const std::string archive =
      DockerLegacyArchive(image, {"busybox:1.36", "registry.example.com:5000/team/app:v2"});
  for (size_t piece : kPieces) {
    SCOPED_TRACE("piece " + std::to_string(piece));
    auto records = Import(archive, piece);
    ASSERT_TRUE(records.has_value()) << records.error().message;
    ASSERT_EQ(records->size(), 2u);
    const auto& r = *records;
    // Uncompressed layers: the manifest lists them by their diff_ids, the repeated one twice.
    std::string body =
        ExpectImage(r[0], {"docker.io/library/busybox", "busybox", "1.36"}, image, image.diff_ids);
    ExpectImage(r[1],
                {"registry.example.com:5000/team/app", "registry.example.com:5000/team/app", "v2"},
                image, image.diff_ids);
    EXPECT_EQ(r[0].manifest_digest, r[1].manifest_digest);
    EXPECT_EQ(r[0].manifest_media_type, oci::kOciManifest);
    EXPECT_EQ(r[0].size, 2 * static_cast<int64_t>(image.layers[0].size()) +
                             static_cast<int64_t>(image.layers[1].size()));
    for (const auto& layer : Json::parse(body)["layers"]) {
      EXPECT_EQ(layer["mediaType"], "application/vnd.oci.image.layer.v1.tar");
    }
  }
}

TEST_F(ArchiveImportRecordsTest, ADockerArchiveGetsTheSameManifestBytesEveryTime) {
  const TestImage image = MakeImage({"one", "two"});
  const std::string archive = DockerLegacyArchive(image, {"team/app:1"});
  auto first = Import(archive);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  const std::string body = *store_->Read(*Digest::Parse(first->at(0).manifest_digest));
  // Again into the same store, gzip-compressed as a whole, and into a fresh store.
  auto again = Import(content::Gzip(archive, 6), 7);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->at(0).manifest_digest, first->at(0).manifest_digest);
  auto other_store = OpenStore(dir_.path() / "other");
  auto fresh = Import(archive, 0, {}, other_store.get());
  ASSERT_TRUE(fresh.has_value()) << fresh.error().message;
  EXPECT_EQ(fresh->at(0).manifest_digest, first->at(0).manifest_digest);
  EXPECT_EQ(*other_store->Read(*Digest::Parse(fresh->at(0).manifest_digest)), body);
  EXPECT_EQ(Digest::Of(body).str(), first->at(0).manifest_digest);
}

TEST_F(ArchiveImportRecordsTest, DockerArchiveWithBlobPathsAndGzipLayers) {
  const TestImage image = MakeImage({"lower", "middle", "upper"});
  std::vector<Digest> gzipped;
  for (const auto& layer : GzipLayers(image)) gzipped.push_back(Digest::Of(layer));
  const std::string archive = DockerBlobsArchive(image, {"docker.io/library/alpine:3.20"});
  for (size_t piece : kPieces) {
    SCOPED_TRACE("piece " + std::to_string(piece));
    auto records = Import(archive, piece);
    ASSERT_TRUE(records.has_value()) << records.error().message;
    ASSERT_EQ(records->size(), 1u);
    // The size is that of the layers unpacked, not of the gzip streams.
    std::string body =
        ExpectImage(records->at(0), {"docker.io/library/alpine", "alpine", "3.20"}, image, gzipped);
    for (const auto& layer : Json::parse(body)["layers"]) {
      EXPECT_EQ(layer["mediaType"], "application/vnd.oci.image.layer.v1.tar+gzip");
    }
  }
}

TEST_F(ArchiveImportRecordsTest, AGzipCompressedArchive) {
  const TestImage image = MakeImage({"gz"});
  const std::string archive = content::Gzip(DockerLegacyArchive(image, {"gz:1"}), 9);
  for (size_t piece : kPieces) {
    SCOPED_TRACE("piece " + std::to_string(piece));
    auto records = Import(archive, piece);
    ASSERT_TRUE(records.has_value()) << records.error().message;
    ASSERT_EQ(records->size(), 1u);
    ExpectImage(records->at(0), {"docker.io/library/gz", "gz", "1"}, image, image.diff_ids);
  }
}

TEST_F(ArchiveImportRecordsTest, OciLayoutNamedEachWay) {
  OciLayout oci;
  const TestImage full = MakeImage({"full-a", "full-b"});
  const TestImage tag_only = MakeImage({"tag-only"});
  const TestImage containerd = MakeImage({"containerd"});
  std::vector<Json> manifests = {
      Annotated(oci.AddImage(full, /*gzip=*/true),
                {{"org.opencontainers.image.ref.name", "example.com/team/app:2.0"}}),
      Annotated(oci.AddImage(tag_only, false), {{"org.opencontainers.image.ref.name", "v1"}}),
      Annotated(oci.AddImage(containerd, false),
                {{"io.containerd.image.name", "docker.io/library/busybox:1.36"},
                 {"org.opencontainers.image.ref.name", "1.36"}}),
  };
  const std::string archive = oci.Tar(manifests);
  ArchiveImportOptions options;
  options.untagged_name = *reference::Parse("local/thing:imported");
  for (size_t piece : kPieces) {
    SCOPED_TRACE("piece " + std::to_string(piece));
    auto records = Import(archive, piece, options);
    ASSERT_TRUE(records.has_value()) << records.error().message;
    ASSERT_EQ(records->size(), 3u);
    const auto& r = *records;
    std::vector<Digest> full_layers;
    for (const auto& layer : GzipLayers(full)) full_layers.push_back(Digest::Of(layer));
    ExpectImage(r[0], {"example.com/team/app", "example.com/team/app", "2.0"}, full, full_layers);
    ExpectImage(r[1], {"docker.io/local/thing", "local/thing", "imported"}, tag_only,
                tag_only.diff_ids);
    ExpectImage(r[2], {"docker.io/library/busybox", "busybox", "1.36"}, containerd,
                containerd.diff_ids);
    // An OCI archive's manifests are taken as they are.
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(r[i].manifest_digest, manifests[i]["digest"]);
      EXPECT_EQ(r[i].manifest_size, manifests[i]["size"]);
      EXPECT_EQ(r[i].manifest_media_type, oci::kOciManifest);
    }
  }
}

// An index of two platforms, under index.json directly or under an index of its own.
class NestedIndexTest : public ArchiveImportRecordsTest {
 protected:
  Json PlatformIndex() {
    Json amd = oci.AddImage(amd64, true), arm = oci.AddImage(arm64, true);
    amd["platform"] = {{"os", "linux"}, {"architecture", "amd64"}};
    arm["platform"] = {{"os", "linux"}, {"architecture", "arm64"}, {"variant", "v8"}};
    Json attestation = oci.Add("{}", oci::kOciManifest);
    attestation["platform"] = {{"os", "unknown"}, {"architecture", "unknown"}};
    Json index = {{"schemaVersion", 2},
                  {"mediaType", oci::kOciIndex},
                  {"manifests", {amd, arm, attestation}}};
    return oci.Add(index.dump(), oci::kOciIndex);
  }
  void ExpectPlatforms(const std::string& archive) {
    const std::vector<std::pair<std::string, const TestImage*>> cases = {{"linux/arm64", &arm64},
                                                                         {"linux/amd64", &amd64}};
    for (const auto& [platform, image] : cases) {
      for (size_t piece : kPieces) {
        SCOPED_TRACE(platform + ", piece " + std::to_string(piece));
        ArchiveImportOptions options;
        options.platform = *oci::ParsePlatform(platform);
        auto records = Import(archive, piece, options);
        ASSERT_TRUE(records.has_value()) << records.error().message;
        ASSERT_EQ(records->size(), 1u);
        std::vector<Digest> layers;
        for (const auto& layer : GzipLayers(*image)) layers.push_back(Digest::Of(layer));
        ExpectImage(records->at(0), {"docker.io/library/multi", "multi", "1"}, *image, layers);
      }
    }
  }
  static Json Named(Json descriptor) {
    return Annotated(std::move(descriptor), {{"io.containerd.image.name", "multi:1"}});
  }

  OciLayout oci;
  const TestImage amd64 = MakeImage({"amd64-layer"}, "amd64");
  const TestImage arm64 = MakeImage({"arm64-layer", "arm64-app"}, "arm64");
};

TEST_F(NestedIndexTest, AnIndexChoosesThePlatform) {
  ExpectPlatforms(oci.Tar({Named(PlatformIndex())}));
}

TEST_F(NestedIndexTest, AnIndexUnderAnIndexChoosesThePlatform) {
  Json inner = PlatformIndex();
  Json outer = {
      {"schemaVersion", 2}, {"mediaType", oci::kOciIndex}, {"manifests", Json::array({inner})}};
  ExpectPlatforms(oci.Tar({Named(oci.Add(outer.dump(), oci::kOciIndex))}));
}

TEST_F(NestedIndexTest, IndexesNestedTooDeeplyAreABadArchive) {
  Json index = PlatformIndex();
  for (int level = 0; level < 2; ++level) {
    Json outer = {
        {"schemaVersion", 2}, {"mediaType", oci::kOciIndex}, {"manifests", Json::array({index})}};
    index = oci.Add(outer.dump(), oci::kOciIndex);
  }
  Status error =
      ImportError(oci.Tar({Named(index)}), {.platform = *oci::ParsePlatform("linux/arm64")});
  EXPECT_EQ(error.code, Code::kInvalidArgument);
  EXPECT_NE(error.message.find("in the archive nests indexes too deeply"), std::string::npos)
      << error.message;
}

TEST_F(NestedIndexTest, APlatformTheIndexLacksIsABadArchive) {
  const std::string archive = oci.Tar({Named(PlatformIndex())});
  ArchiveImportOptions options;
  options.platform = *oci::ParsePlatform("linux/s390x");
  Status error = ImportError(archive, options);
  EXPECT_EQ(error.code, Code::kInvalidArgument);
  EXPECT_NE(error.message.find("no image for linux/s390x"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("linux/amd64, linux/arm64/v8"), std::string::npos) << error.message;
}

TEST(ImportLabelTest, BaseNameWithUnsafeBytesReplaced) {
  struct Case {
    std::string file, label;
  };
  for (const Case& c : std::vector<Case>{
           {"busybox.tar", "busybox.tar"},
           {"/home/me/images/busybox-1.36.tar.gz", "busybox-1.36.tar.gz"},
           {"C:\\Users\\me\\Downloads\\app_v2.tar", "app_v2.tar"},
           {"my image (1).tar", "my_image__1_.tar"},
           {"caf\xc3\xa9.tar", "caf__.tar"},
           {"a\"b<script>.tar", "a_b_script_.tar"},
           {"", "archive.tar"},
           {"dir/", "archive.tar"},
           {".", "archive.tar"},
           {"..", "archive.tar"},
           {"../..", "archive.tar"},
           {std::string(150, 'x') + ".tar", std::string(100, 'x')},
       }) {
    EXPECT_EQ(ImportLabel(c.file), c.label) << c.file;
  }
}

}  // namespace
}  // namespace wharf::service
