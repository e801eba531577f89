#include "wharf/archive/layout.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace wharf::archive {
namespace {

ArchiveImage Image(std::vector<std::string> tags, const std::string& seed,
                   std::vector<Digest> layers) {
  ArchiveImage image;
  image.repo_tags = std::move(tags);
  image.manifest = {
      "application/vnd.oci.image.manifest.v1+json", Digest::Of("m" + seed), 123, {}, {}};
  image.config = Digest::Of("c" + seed);
  image.layers = std::move(layers);
  return image;
}

TEST(OciIndexJsonTest, EachNameIsADescriptorAnnotatedWithFullAndShortName) {
  struct Case {
    std::string full;
    std::string ref_name;
  };
  const std::vector<Case> cases = {
      {"docker.io/library/busybox:1.36", "busybox:1.36"},
      {"docker.io/lgsd/diamond:latest", "lgsd/diamond:latest"},
      {"ghcr.io/x/y:t", "ghcr.io/x/y:t"},
      {"127.0.0.1:5000/team/app:v2", "127.0.0.1:5000/team/app:v2"},
  };
  for (const auto& c : cases) {
    auto index = nlohmann::json::parse(OciIndexJson({Image({c.full}, "a", {})}));
    ASSERT_EQ(index["manifests"].size(), 1u) << c.full;
    const auto& d = index["manifests"][0];
    EXPECT_EQ(d["annotations"]["io.containerd.image.name"], c.full);
    EXPECT_EQ(d["annotations"]["org.opencontainers.image.ref.name"], c.ref_name) << c.full;
    EXPECT_EQ(d["digest"], Digest::Of("ma").str());
    EXPECT_EQ(d["size"], 123);
    EXPECT_EQ(d["mediaType"], "application/vnd.oci.image.manifest.v1+json");
  }
}

TEST(OciIndexJsonTest, SeveralTagsSeveralDescriptorsUntaggedNone) {
  auto index = nlohmann::json::parse(OciIndexJson(
      {Image({"docker.io/library/a:1", "docker.io/library/a:2"}, "a", {}), Image({}, "b", {})}));
  ASSERT_EQ(index["manifests"].size(), 3u);
  EXPECT_EQ(index["manifests"][0]["digest"], index["manifests"][1]["digest"]);
  EXPECT_EQ(index["manifests"][1]["annotations"]["org.opencontainers.image.ref.name"], "a:2");
  EXPECT_FALSE(index["manifests"][2].contains("annotations"));
  EXPECT_EQ(index["manifests"][2]["digest"], Digest::Of("mb").str());
}

TEST(ArchiveBlobsTest, EachBlobOnceInOrderOfFirstUse) {
  Digest base = Digest::Of("base"), top = Digest::Of("top");
  std::vector<ArchiveImage> images = {Image({}, "a", {base, top}), Image({}, "b", {base})};
  EXPECT_EQ(ArchiveBlobs(images, ArchiveFormat::kDocker),
            (std::vector<Digest>{images[0].config, base, top, images[1].config}));
  EXPECT_EQ(ArchiveBlobs(images, ArchiveFormat::kOci),
            (std::vector<Digest>{images[0].manifest.digest, images[0].config, base, top,
                                 images[1].manifest.digest, images[1].config}));
  images[1] = images[0];  // the same image twice
  EXPECT_EQ(ArchiveBlobs(images, ArchiveFormat::kOci).size(), 4u);
}

TEST(MetadataFilesTest, DockerHasManifestJsonOciAddsLayoutAndIndex) {
  std::vector<ArchiveImage> images = {Image({"docker.io/library/a:1"}, "a", {})};
  auto docker = MetadataFiles(images, ArchiveFormat::kDocker);
  ASSERT_EQ(docker.size(), 1u);
  EXPECT_EQ(docker[0].name, "manifest.json");
  EXPECT_EQ(docker[0].content, DockerManifestJson(images));
  auto oci = MetadataFiles(images, ArchiveFormat::kOci);
  ASSERT_EQ(oci.size(), 3u);
  EXPECT_EQ(oci[0].name, "oci-layout");
  EXPECT_EQ(oci[1].name, "index.json");
  EXPECT_EQ(oci[1].content, OciIndexJson(images));
  EXPECT_EQ(oci[2].name, "manifest.json");
}

}  // namespace
}  // namespace wharf::archive
