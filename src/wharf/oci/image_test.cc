#include "wharf/oci/image.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "wharf/oci/test_manifests.h"

namespace wharf::oci {
namespace {

using namespace test_data;

TEST(ManifestAcceptHeaderTest, ListsAllSupportedKinds) {
  const std::string header = ManifestAcceptHeader();
  for (std::string_view type : {kOciManifest, kOciIndex, kDockerManifest, kDockerManifestList}) {
    EXPECT_NE(header.find(type), std::string::npos) << type;
  }
  EXPECT_EQ(header.find("v1+prettyjws"), std::string::npos);
  EXPECT_EQ(std::ranges::count(header, ','), 3);
}

TEST(ClassifyManifestTest, UsesContentTypeThenBody) {
  struct Case {
    std::string content_type;
    std::string_view body;
    ManifestKind want;
  };
  const std::vector<Case> cases = {
      {std::string(kOciIndex), kOciIndexWithAttestation, ManifestKind::kIndex},
      {std::string(kDockerManifestList), kDockerManifestListBody, ManifestKind::kIndex},
      {std::string(kOciManifest), kOciManifestGzip, ManifestKind::kImage},
      {std::string(kDockerManifest), kDockerV2Manifest, ManifestKind::kImage},
      // The header wins over the body; parameters and case are ignored.
      {std::string(kOciManifest) + "; charset=utf-8", "{}", ManifestKind::kImage},
      {"Application/VND.OCI.Image.Index.v1+JSON ; charset=utf-8", "", ManifestKind::kIndex},
      // Generic content types fall back to the body's mediaType ...
      {"", kDockerManifestListBody, ManifestKind::kIndex},
      {"application/json", kDockerV2Manifest, ManifestKind::kImage},
      {"text/plain; charset=utf-8", kOciIndexWithAttestation, ManifestKind::kIndex},
      {"application/octet-stream", kOciManifestGzip, ManifestKind::kImage},
      // ... and without one, to the shape of the body.
      {"", R"({"schemaVersion": 2, "manifests": []})", ManifestKind::kIndex},
      {"application/json", R"({"schemaVersion": 2, "config": {}, "layers": []})",
       ManifestKind::kImage},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.content_type + " " + std::string(c.body.substr(0, 40)));
    auto kind = ClassifyManifest(c.content_type, c.body);
    ASSERT_TRUE(kind) << kind.error().ToString();
    EXPECT_EQ(*kind, c.want);
  }
}

TEST(ClassifyManifestTest, RejectsSchema1AndUnknownTypes) {
  struct Case {
    std::string content_type;
    std::string_view body;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {std::string(kDockerSchema1Signed), kSchema1Manifest,
       "Docker schema 1 manifests are not supported "
       "(application/vnd.docker.distribution.manifest.v1+prettyjws); push the image again with a "
       "current Docker or skopeo"},
      {std::string(kDockerSchema1), kSchema1Manifest,
       "Docker schema 1 manifests are not supported"},
      {"application/json", kSchema1Manifest,
       "schema 1 manifests are not supported (schemaVersion 1)"},
      {"", R"({"mediaType": "application/vnd.docker.distribution.manifest.v1+json"})", "schema 1"},
      {"application/vnd.example.thing+json", "{}",
       "unsupported manifest media type \"application/vnd.example.thing+json\""},
      {"", R"({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.config.v1+json"})",
       "unsupported manifest media type \"application/vnd.oci.image.config.v1+json\""},
      {"", R"({"schemaVersion": 2})", "cannot tell what kind of manifest"},
      {"", R"({"schemaVersion": 2, "config": {}})", "cannot tell what kind of manifest"},
      {"application/json", "not json", "not valid JSON"},
      {"application/json", "[1, 2]", "not a JSON object"},
      {"", R"({"mediaType": 7})", "\"mediaType\" is not a string"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.content_type + " " + std::string(c.body.substr(0, 40)));
    auto kind = ClassifyManifest(c.content_type, c.body);
    ASSERT_FALSE(kind);
    EXPECT_EQ(kind.error().code, Code::kInvalidArgument);
    EXPECT_NE(kind.error().message.find(c.message_part), std::string::npos) << kind.error().message;
  }
}

TEST(ParseIndexTest, ParsesOciIndexWithAttestation) {
  auto index = ParseIndex(kOciIndexWithAttestation);
  ASSERT_TRUE(index) << index.error().ToString();
  EXPECT_EQ(index->media_type, kOciIndex);
  ASSERT_EQ(index->manifests.size(), 3u);
  EXPECT_EQ(index->manifests[0].digest.str(), kAmd64Digest);
  EXPECT_EQ(index->manifests[0].size, 1052);
  ASSERT_TRUE(index->manifests[0].platform);
  EXPECT_EQ(*index->manifests[0].platform, (Platform{"linux", "amd64", ""}));
  EXPECT_EQ(*index->manifests[1].platform, (Platform{"linux", "arm64", "v8"}));
  EXPECT_EQ(index->manifests[2].platform->os, "unknown");
  EXPECT_EQ(index->manifests[2].annotations.at("vnd.docker.reference.type"),
            "attestation-manifest");
}

TEST(ParseIndexTest, ParsesDockerManifestList) {
  auto index = ParseIndex(kDockerManifestListBody);
  ASSERT_TRUE(index) << index.error().ToString();
  EXPECT_EQ(index->media_type, kDockerManifestList);
  ASSERT_EQ(index->manifests.size(), 3u);
  EXPECT_EQ(index->manifests[1].media_type, kDockerManifest);
  EXPECT_EQ(*index->manifests[1].platform, (Platform{"linux", "arm", "v7"}));
}

TEST(ParseIndexTest, MediaTypeMayBeAbsentAndDefaultsToOci) {
  auto index = ParseIndex(R"({"schemaVersion": 2, "manifests": []})");
  ASSERT_TRUE(index) << index.error().ToString();
  EXPECT_EQ(index->media_type, kOciIndex);
  EXPECT_TRUE(index->manifests.empty());
}

TEST(ParseManifestTest, ParsesOciManifestWithGzipLayers) {
  auto manifest = ParseManifest(kOciManifestGzip);
  ASSERT_TRUE(manifest) << manifest.error().ToString();
  EXPECT_EQ(manifest->media_type, kOciManifest);
  EXPECT_EQ(manifest->config.media_type, kOciConfig);
  EXPECT_EQ(manifest->config.digest.str(), kConfigDigest);
  EXPECT_EQ(manifest->config.size, 1471);
  ASSERT_EQ(manifest->layers.size(), 2u);
  EXPECT_EQ(manifest->layers[0].digest.str(), kLayer1Digest);
  EXPECT_EQ(manifest->layers[0].size, 29534055);
  EXPECT_EQ(manifest->layers[1].annotations.at("org.opencontainers.image.title"), "app");
  for (const auto& layer : manifest->layers) {
    EXPECT_EQ(LayerCompression(layer.media_type), Compression::kGzip);
  }
}

TEST(ParseManifestTest, ParsesDockerV2Manifest) {
  auto manifest = ParseManifest(kDockerV2Manifest);
  ASSERT_TRUE(manifest) << manifest.error().ToString();
  EXPECT_EQ(manifest->media_type, kDockerManifest);
  EXPECT_EQ(manifest->config.media_type, kDockerConfig);
  ASSERT_EQ(manifest->layers.size(), 1u);
  EXPECT_EQ(manifest->layers[0].size, 32654);
  EXPECT_FALSE(manifest->layers[0].platform);
}

TEST(ParseManifestTest, AcceptsZeroLayersAndAbsentMediaType) {
  auto manifest = ParseManifest(R"({"schemaVersion": 2, "config": {
      "mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
      "digest": "sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910"},
      "layers": []})");
  ASSERT_TRUE(manifest) << manifest.error().ToString();
  EXPECT_EQ(manifest->media_type, kOciManifest);
  EXPECT_TRUE(manifest->layers.empty());
}

// A manifest with one layer whose descriptor JSON is `layer`.
std::string ManifestWithLayer(std::string_view layer) {
  return R"({"schemaVersion": 2, "config": {
      "mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
      "digest": "sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910"},
      "layers": [)" +
         std::string(layer) + "]}";
}

TEST(ParseManifestTest, RejectsInvalidManifests) {
  const std::string kGoodDigest = "\"" + kLayer1Digest + "\"";
  struct Case {
    std::string body;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {std::string(kSchema1Manifest), "Docker schema 1 manifests are not supported"},
      {R"({"mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": []})",
       "has no schemaVersion"},
      {R"({"schemaVersion": 3, "config": {}, "layers": []})", "schemaVersion 3"},
      {R"({"schemaVersion": "2", "config": {}, "layers": []})", "schemaVersion \"2\""},
      {R"({"schemaVersion": 2, "layers": []})", "image manifest has no config"},
      {std::string(kOciIndexWithAttestation), "has media type \"" + std::string(kOciIndex)},
      {R"({"schemaVersion": 2, "config": {"mediaType": "x", "size": 1,
          "digest": "sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910"}})",
       "has no \"layers\""},
      {ManifestWithLayer(R"({"size": 1, "digest": )" + kGoodDigest + "}"),
       "layers[0] has no mediaType"},
      {ManifestWithLayer(R"({"mediaType": "m", "size": 1, "digest": "sha256:abc"})"),
       "layers[0]: invalid sha256 digest"},
      {ManifestWithLayer(R"({"mediaType": "m", "size": 1, "digest": "md5:abc"})"),
       "layers[0]: unsupported digest"},
      {ManifestWithLayer(R"({"mediaType": "m", "size": 1})"), "layers[0]: unsupported digest"},
      {ManifestWithLayer(
           R"({"mediaType": "m", "size": 1, "digest": "sha256:2804BAD6FE94A55F18B2B37E300919A5FD517B95AA81E95DB574C0BA069A3740"})"),
       "invalid sha256 digest"},
      {ManifestWithLayer(R"({"mediaType": "m", "size": -1, "digest": )" + kGoodDigest + "}"),
       "layers[0] has negative size -1"},
      {ManifestWithLayer(R"({"mediaType": "m", "size": 1.5, "digest": )" + kGoodDigest + "}"),
       "layers[0] has no integer \"size\""},
      {ManifestWithLayer(R"({"mediaType": "m", "digest": )" + kGoodDigest + "}"),
       "layers[0] has no integer \"size\""},
      {ManifestWithLayer(R"({"mediaType": "m", "size": 18446744073709551615, "digest": )" +
                         kGoodDigest + "}"),
       "too large"},
      {ManifestWithLayer(R"({"mediaType": "m", "size": 1, "digest": )" + kGoodDigest +
                         R"(, "annotations": {"a": 1}})"),
       "annotation \"a\" is not a string"},
      {ManifestWithLayer(R"({"mediaType": "m", "size": 1, "digest": )" + kGoodDigest +
                         R"(, "platform": {"os": 1}})"),
       "\"os\" is not a string"},
      {ManifestWithLayer("7"), "layers[0] is not an object"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body.substr(0, 200));
    auto manifest = ParseManifest(c.body);
    ASSERT_FALSE(manifest);
    EXPECT_EQ(manifest.error().code, Code::kInvalidArgument);
    EXPECT_NE(manifest.error().message.find(c.message_part), std::string::npos)
        << manifest.error().message;
  }
}

TEST(ParseIndexTest, RejectsInvalidIndexes) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"schemaVersion": 2})", "has no \"manifests\""},
      {R"({"schemaVersion": 2, "manifests": {}})", "\"manifests\" is not an array"},
      {R"({"schemaVersion": 1, "manifests": []})", "Docker schema 1"},
      {std::string(kDockerV2Manifest), "has media type \"" + std::string(kDockerManifest)},
      {R"({"schemaVersion": 2, "manifests": [{"mediaType": "m", "size": 1, "digest": "sha256:x"}]})",
       "manifests[0]: invalid sha256 digest"},
      {R"({"schemaVersion": 2, "manifests": [{"mediaType": "m", "size": 1,
          "digest": "sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51",
          "platform": "linux/amd64"}]})",
       "\"platform\" is not an object"},
  };
  for (const auto& [body, message_part] : cases) {
    SCOPED_TRACE(body);
    auto index = ParseIndex(body);
    ASSERT_FALSE(index);
    EXPECT_NE(index.error().message.find(message_part), std::string::npos) << index.error().message;
  }
}

TEST(LayerCompressionTest, MapsLayerMediaTypes) {
  EXPECT_EQ(LayerCompression("application/vnd.oci.image.layer.v1.tar"), Compression::kNone);
  EXPECT_EQ(LayerCompression("application/vnd.oci.image.layer.v1.tar+gzip"), Compression::kGzip);
  EXPECT_EQ(LayerCompression("application/vnd.oci.image.layer.v1.tar+zstd"), Compression::kZstd);
  EXPECT_EQ(LayerCompression("application/vnd.docker.image.rootfs.diff.tar.gzip"),
            Compression::kGzip);
  EXPECT_EQ(LayerCompression("application/vnd.docker.image.rootfs.diff.tar"), Compression::kNone);

  const std::vector<std::pair<std::string, std::string>> errors = {
      {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "non-distributable layer"},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "non-distributable layer"},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar", "is not supported"},
      {"application/vnd.in-toto+json",
       "unsupported layer media type \"application/vnd.in-toto+json\""},
      {"application/vnd.oci.image.layer.v1.tar+bzip2",
       "application/vnd.oci.image.layer.v1.tar+bzip2"},
      {"", "unsupported layer media type \"\""},
  };
  for (const auto& [media_type, message_part] : errors) {
    auto compression = LayerCompression(media_type);
    ASSERT_FALSE(compression) << media_type;
    EXPECT_EQ(compression.error().code, Code::kInvalidArgument);
    EXPECT_NE(compression.error().message.find(message_part), std::string::npos)
        << compression.error().message;
  }
}

constexpr std::string_view kImageConfig = R"({
  "architecture": "arm64",
  "variant": "v8",
  "os": "linux",
  "created": "2024-05-01T10:00:00.123456789Z",
  "config": {"Env": ["PATH=/usr/bin"], "Cmd": ["/bin/sh"]},
  "rootfs": {
    "type": "layers",
    "diff_ids": [
      "sha256:0697c0f434f8672811eb1b52d443d0d4cb616fa58e4d10b25e91471b7f45a665",
      "sha256:a9485d17c39b521f9de31b558df98f81dd72a9c7498f57f27b74356ea150fbd9"
    ]
  },
  "history": [{"created_by": "ADD rootfs.tar /"}]
})";

TEST(ParseConfigTest, ParsesImageConfig) {
  auto config = ParseConfig(kImageConfig);
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->architecture, "arm64");
  EXPECT_EQ(config->os, "linux");
  EXPECT_EQ(config->variant, "v8");
  EXPECT_EQ(config->created, "2024-05-01T10:00:00.123456789Z");
  ASSERT_EQ(config->diff_ids.size(), 2u);
  EXPECT_EQ(config->diff_ids[1].str(),
            "sha256:a9485d17c39b521f9de31b558df98f81dd72a9c7498f57f27b74356ea150fbd9");
  EXPECT_EQ(config->raw, kImageConfig);

  auto minimal = ParseConfig(R"({"rootfs": {"type": "layers", "diff_ids": []}})");
  ASSERT_TRUE(minimal) << minimal.error().ToString();
  EXPECT_TRUE(minimal->created.empty());
  EXPECT_TRUE(minimal->diff_ids.empty());
}

TEST(ParseConfigTest, RejectsInvalidConfigs) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"os": "linux"})", "no \"rootfs\" object"},
      {R"({"rootfs": {"type": "layers"}})", "has no \"diff_ids\""},
      {R"({"rootfs": {"type": "other", "diff_ids": []}})", "rootfs.type is \"other\""},
      {R"({"rootfs": {"type": "layers", "diff_ids": ["sha256:abc"]}})",
       "rootfs.diff_ids[0]: invalid sha256 digest"},
      {R"({"rootfs": {"type": "layers", "diff_ids": [5]}})", "diff_ids[0] is not a string"},
      {R"({"architecture": 5, "rootfs": {"type": "layers", "diff_ids": []}})",
       "\"architecture\" is not a string"},
      {"{", "not valid JSON"},
  };
  for (const auto& [body, message_part] : cases) {
    auto config = ParseConfig(body);
    ASSERT_FALSE(config) << body;
    EXPECT_EQ(config.error().code, Code::kInvalidArgument);
    EXPECT_NE(config.error().message.find(message_part), std::string::npos)
        << config.error().message;
  }
}

}  // namespace
}  // namespace wharf::oci
