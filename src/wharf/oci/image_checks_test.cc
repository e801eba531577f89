#include "wharf/oci/image_checks.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wharf::oci {
namespace {

const std::string kDigestA =
    "sha256:2804bad6fe94a55f18b2b37e300919a5fd517b95aa81e95db574c0ba069a3740";
const std::string kDigestB =
    "sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910";

// A manifest as the wild has them: its config media type, artifactType and layer types.
std::string ManifestJson(const std::string& config_type, const std::string& artifact_type,
                         const std::vector<std::string>& layer_types) {
  std::string layers;
  for (const auto& type : layer_types) {
    if (!layers.empty()) layers += ",";
    layers += R"({"mediaType":")" + type + R"(","digest":")" + kDigestA + R"(","size":3})";
  }
  std::string artifact =
      artifact_type.empty() ? "" : R"("artifactType":")" + artifact_type + R"(",)";
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)" +
         artifact + R"("config":{"mediaType":")" + config_type + R"(","digest":")" + kDigestB +
         R"(","size":2},"layers":[)" + layers + "]}";
}

struct Case {
  std::string body;
  std::string error;  // "" when it is a container image
};

TEST(ImageChecksTest, TakesContainerImagesAndRefusesTheRestNamingWhy) {
  const std::string gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
  const std::string docker_config = "application/vnd.docker.container.image.v1+json";
  const std::vector<Case> cases = {
      {ManifestJson(std::string(kOciConfig), "", {gzip}), ""},
      {ManifestJson(docker_config, "", {"application/vnd.docker.image.rootfs.diff.tar.gzip"}), ""},
      {ManifestJson(std::string(kOciConfig), "",
                    {"application/vnd.oci.image.layer.v1.tar+zstd",
                     "application/vnd.oci.image.layer.v1.tar"}),
       ""},
      {ManifestJson(std::string(kOciConfig), "", {}), ""},
      // OCI 1.1 artifacts: an artifactType, usually over the empty config.
      {ManifestJson("application/vnd.oci.empty.v1+json", "application/vnd.example.sbom.v1+json",
                    {"application/spdx+json"}),
       "ns/app:1 is not a container image (artifact type application/vnd.example.sbom.v1+json)"},
      {ManifestJson(std::string(kOciConfig), "application/vnd.dev.sigstore.bundle.v0.3+json", {}),
       "ns/app:1 is not a container image (artifact type "
       "application/vnd.dev.sigstore.bundle.v0.3+json)"},
      // Artifacts of before 1.1: the config says what they are.
      {ManifestJson("application/vnd.cncf.helm.config.v1+json", "",
                    {"application/vnd.cncf.helm.chart.content.v1.tar+gzip"}),
       "ns/app:1 is not a container image (config media type "
       "application/vnd.cncf.helm.config.v1+json)"},
      {ManifestJson("application/vnd.oci.empty.v1+json", "", {gzip}),
       "ns/app:1 is not a container image (config media type application/vnd.oci.empty.v1+json)"},
      // Cosign's simple signing: an image config over a layer that is not a tar.
      {ManifestJson(std::string(kOciConfig), "",
                    {"application/vnd.dev.cosign.simplesigning.v1+json"}),
       "ns/app:1 is not a container image (layer media type "
       "application/vnd.dev.cosign.simplesigning.v1+json)"},
      {ManifestJson(docker_config, "",
                    {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"}),
       "ns/app:1 has a non-distributable layer " + kDigestA +
           " (application/vnd.docker.image.rootfs.foreign.diff.tar.gzip): its bytes live "
           "outside the registry, and wharf does not fetch them"},
      {ManifestJson(std::string(kOciConfig), "",
                    {gzip, "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"}),
       "ns/app:1 has a non-distributable layer " + kDigestA +
           " (application/vnd.oci.image.layer.nondistributable.v1.tar+gzip)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body);
    auto manifest = ParseManifest(c.body);
    ASSERT_TRUE(manifest) << manifest.error().ToString();
    auto checked = CheckContainerImage(*manifest, "ns/app:1");
    if (c.error.empty()) {
      EXPECT_TRUE(checked) << checked.error().ToString();
      continue;
    }
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error().code, Code::kInvalidArgument);
    EXPECT_EQ(checked.error().message.substr(0, c.error.size()), c.error);
  }
}

TEST(ImageChecksTest, ArtifactTypeIsParsed) {
  auto manifest = ParseManifest(ManifestJson("application/vnd.oci.empty.v1+json", "x/y", {}));
  ASSERT_TRUE(manifest) << manifest.error().ToString();
  EXPECT_EQ(manifest->artifact_type, "x/y");
  EXPECT_FALSE(ParseManifest(
      R"({"schemaVersion":2,"artifactType":7,"config":{"mediaType":"a/b","digest":")" + kDigestB +
      R"(","size":2},"layers":[]})"));
}

TEST(ImageChecksTest, ConfigMustListOneDiffIdPerLayer) {
  auto manifest = ParseManifest(
      ManifestJson(std::string(kOciConfig), "", {"application/vnd.oci.image.layer.v1.tar"}));
  ASSERT_TRUE(manifest);
  ImageConfig config;
  auto none = CheckConfigFits(*manifest, config);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Code::kDataLoss);
  EXPECT_EQ(none.error().message, "the manifest has 1 layers but the config lists 0 diff_ids");
  config.diff_ids.push_back(Digest::Of("x"));
  EXPECT_TRUE(CheckConfigFits(*manifest, config));
}

}  // namespace
}  // namespace wharf::oci
