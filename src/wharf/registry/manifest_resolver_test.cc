// ResolveManifest against a fake registry on loopback that serves a table of manifests: plain
// manifests, indexes, nested indexes, attestations, and bytes that do not match their digest.
#include "wharf/registry/manifest_resolver.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "wharf/base/digest.h"
#include "wharf/registry/test_registry.h"

namespace wharf::registry {
namespace {

using nlohmann::json;
using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

const oci::Platform kAmd64{"linux", "amd64", ""};

// An image manifest whose config digest names it, so that tests can tell manifests apart.
std::string ImageManifest(const std::string& name) {
  return json{{"schemaVersion", 2},
              {"mediaType", oci::kOciManifest},
              {"config",
               {{"mediaType", oci::kOciConfig},
                {"digest", Digest::Of("config of " + name).str()},
                {"size", 10}}},
              {"layers", json::array()}}
      .dump();
}

json Entry(std::string_view media_type, const std::string& body,
           std::optional<oci::Platform> platform = std::nullopt) {
  json entry = {
      {"mediaType", media_type}, {"digest", Digest::Of(body).str()}, {"size", body.size()}};
  if (platform) {
    entry["platform"] = {{"os", platform->os}, {"architecture", platform->architecture}};
    if (!platform->variant.empty()) entry["platform"]["variant"] = platform->variant;
  }
  return entry;
}

std::string Index(json entries) {
  return json{{"schemaVersion", 2}, {"mediaType", oci::kOciIndex}, {"manifests", entries}}.dump();
}

// A fake registry (started by the first Resolve) serving /v2/foo/manifests/<key> from a
// table of manifests by tag and digest; anything else is MANIFEST_UNKNOWN.
class ManifestResolverTest : public ::testing::Test {
 protected:
  // Serves `body` under its digest, and also under `tag` if one is given.
  void Add(std::string_view media_type, const std::string& body, const std::string& tag = "") {
    std::lock_guard lock(mu_);
    manifests_[Digest::Of(body).str()] = {std::string(media_type), body};
    if (!tag.empty()) manifests_[tag] = {std::string(media_type), body};
  }
  // Wraps `body` (served already) in `levels` indexes without platforms, the outermost under
  // "latest"; returns the outermost.
  std::string Nest(std::string body, std::string_view media_type, int levels) {
    for (int i = 0; i < levels; ++i) {
      body = Index(json::array({Entry(media_type, body)}));
      media_type = oci::kOciIndex;
      Add(media_type, body, i + 1 == levels ? "latest" : "");
    }
    return body;
  }

  Result<ResolvedManifest> Resolve(const std::string& tag_or_digest,
                                   const oci::Platform& platform = kAmd64,
                                   const std::function<bool()>& cancelled = {}) {
    if (server_ == nullptr) {
      server_ = std::make_unique<FakeHttpServer>([this](const FakeRequest& r) { return Serve(r); });
    }
    reference::Reference ref{.domain = server_->host(), .path = "foo"};
    (tag_or_digest.starts_with("sha256:") ? ref.digest : ref.tag) = tag_or_digest;
    return ResolveManifest(client_, ref, platform, cancelled);
  }

  std::string Name() const { return server_->host() + "/foo"; }
  int Requests(const std::string& body) const {
    return server_->CountRequests("/v2/foo/manifests/" + Digest::Of(body).str());
  }

  // Serves `body` as the blob of its digest.
  void AddBlob(const std::string& body) {
    std::lock_guard lock(mu_);
    blobs_[Digest::Of(body).str()] = body;
  }

  // Serves `body` under `key` (a tag or a digest) as it is, whatever its digest.
  void ServeAs(const std::string& key, std::string_view media_type, const std::string& body) {
    std::lock_guard lock(mu_);
    manifests_[key] = {std::string(media_type), body};
  }

 private:
  FakeResponse Serve(const FakeRequest& request) const {
    const std::string prefix = "/v2/foo/manifests/";
    if (request.target == "/v2/") return {200, {}, "{}"};
    if (const std::string blobs = "/v2/foo/blobs/"; request.target.starts_with(blobs)) {
      std::lock_guard lock(mu_);
      auto it = blobs_.find(request.target.substr(blobs.size()));
      if (it != blobs_.end())
        return {200, {{"Content-Type", "application/octet-stream"}}, it->second};
    }
    if (request.target.starts_with(prefix)) {
      std::lock_guard lock(mu_);
      auto it = manifests_.find(request.target.substr(prefix.size()));
      if (it != manifests_.end()) {
        return {200, {{"Content-Type", it->second.first}}, it->second.second};
      }
    }
    return {404,
            {{"Content-Type", "application/json"}},
            R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})"};
  }

  mutable std::mutex mu_;
  std::map<std::string, std::pair<std::string, std::string>> manifests_;  // → type, body
  std::map<std::string, std::string> blobs_;                              // digest → body
  Client client_{Options{.request_tries = 1}};
  std::unique_ptr<FakeHttpServer> server_;
};

TEST_F(ManifestResolverTest, PlainManifest) {
  const std::string image = ImageManifest("plain");
  Add(oci::kOciManifest, image, "latest");
  auto got = Resolve("latest");
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->digest, Digest::Of(image));
  EXPECT_EQ(got->media_type, oci::kOciManifest);
  EXPECT_FALSE(got->index);
  EXPECT_EQ(got->manifest.body, image);
  EXPECT_EQ(got->manifest.digest, Digest::Of(image));
  EXPECT_EQ(got->parsed.config.digest, Digest::Of("config of plain"));
}

TEST_F(ManifestResolverTest, IndexIsNarrowedToThePlatform) {
  const std::string amd64 = ImageManifest("amd64");
  const std::string arm64 = ImageManifest("arm64");
  Add(oci::kDockerManifest, amd64);
  Add(oci::kDockerManifest, arm64);
  const std::string index = Index(
      json::array({Entry(oci::kDockerManifest, amd64, kAmd64),
                   Entry(oci::kDockerManifest, arm64, oci::Platform{"linux", "arm64", "v8"})}));
  Add(oci::kOciIndex, index, "latest");
  auto got = Resolve("latest", oci::Platform{"linux", "arm64", ""});
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->digest, Digest::Of(index));
  EXPECT_EQ(got->media_type, oci::kOciIndex);
  ASSERT_TRUE(got->index);
  EXPECT_EQ(got->index->manifests.size(), 2u);
  EXPECT_EQ(got->manifest.body, arm64);
  EXPECT_EQ(got->manifest.media_type, oci::kDockerManifest);
  EXPECT_EQ(got->manifest.digest, Digest::Of(arm64));
  EXPECT_EQ(got->parsed.config.digest, Digest::Of("config of arm64"));
  EXPECT_EQ(Requests(amd64), 0);
}

TEST_F(ManifestResolverTest, NestedIndexesAreFollowedThreeLevelsDeep) {
  const std::string image = ImageManifest("deep");
  Add(oci::kOciManifest, image);
  const std::string platform_index = Index(json::array({Entry(oci::kOciManifest, image, kAmd64)}));
  Add(oci::kOciIndex, platform_index);
  for (int levels : {1, 2}) {  // the platform's index at level 2, then 3
    const std::string top = Nest(platform_index, oci::kOciIndex, levels);
    auto got = Resolve("latest");
    ASSERT_TRUE(got) << levels << ": " << got.error().ToString();
    EXPECT_EQ(got->digest, Digest::Of(top));
    EXPECT_EQ(got->manifest.body, image);
    EXPECT_EQ(got->parsed.config.digest, Digest::Of("config of deep"));
  }
}

TEST_F(ManifestResolverTest, AFourthLevelOfIndexIsNotFollowed) {
  const std::string image = ImageManifest("too deep");
  Add(oci::kOciManifest, image);
  const std::string platform_index = Index(json::array({Entry(oci::kOciManifest, image, kAmd64)}));
  Add(oci::kOciIndex, platform_index);
  Nest(platform_index, oci::kOciIndex, 3);
  auto got = Resolve("latest");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kNotFound);
  EXPECT_EQ(got.error().message,
            "no image for linux/amd64 in this index; it lists no platforms (indexes nested "
            "deeper than 3 levels are not followed)");
  EXPECT_EQ(Requests(platform_index), 0);
  EXPECT_EQ(Requests(image), 0);
}

TEST_F(ManifestResolverTest, AttestationsAreSkipped) {
  const std::string image = ImageManifest("image");
  const std::string annotated = ImageManifest("provenance");
  const std::string unknown = ImageManifest("sbom");
  for (const auto& body : {image, annotated, unknown}) Add(oci::kOciManifest, body);
  json attestation = Entry(oci::kOciManifest, annotated, kAmd64);  // annotated only
  attestation["annotations"] = {{"vnd.docker.reference.type", "attestation-manifest"},
                                {"vnd.docker.reference.digest", Digest::Of(image).str()}};
  const std::string index = Index(json::array(
      {attestation, Entry(oci::kOciManifest, unknown, oci::Platform{"unknown", "unknown", ""}),
       Entry(oci::kOciManifest, image, kAmd64)}));
  Add(oci::kOciIndex, index, "latest");
  auto got = Resolve("latest");
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->manifest.body, image);
  EXPECT_EQ(Requests(annotated), 0);
  EXPECT_EQ(Requests(unknown), 0);

  // An index of attestations only has no platform to offer.
  Add(oci::kOciIndex, Index(json::array({attestation})), "attested");
  auto none = Resolve("attested");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Code::kNotFound);
  EXPECT_EQ(none.error().message, "no image for linux/amd64 in this index; it lists no platforms");
}

TEST_F(ManifestResolverTest, AnIndexWithoutThePlatformListsThePlatformsItHas) {
  const std::string amd64 = ImageManifest("amd64");
  const std::string arm64 = ImageManifest("arm64");
  Add(oci::kOciManifest, amd64);
  Add(oci::kOciManifest, arm64);
  const std::string inner =
      Index(json::array({Entry(oci::kOciManifest, arm64, oci::Platform{"linux", "arm64", ""})}));
  Add(oci::kOciIndex, inner);
  Add(oci::kOciIndex,
      Index(json::array({Entry(oci::kOciManifest, amd64, kAmd64), Entry(oci::kOciIndex, inner)})),
      "latest");
  auto got = Resolve("latest", oci::Platform{"linux", "s390x", ""});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kNotFound);
  EXPECT_EQ(got.error().message,
            "no image for linux/s390x in this index; it has linux/amd64, linux/arm64/v8");
  // The nested index was looked into; neither image was fetched.
  EXPECT_EQ(Requests(inner), 1);
  EXPECT_EQ(Requests(amd64) + Requests(arm64), 0);
}

TEST_F(ManifestResolverTest, ByDigestTheManifestMustHaveThatDigest) {
  const std::string asked = ImageManifest("asked");
  const std::string other = ImageManifest("other");
  ServeAs(Digest::Of(asked).str(), oci::kOciManifest, other);
  auto got = Resolve(Digest::Of(asked).str());
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kDataLoss);
  EXPECT_NE(got.error().message.find("sent a manifest with digest " + Digest::Of(other).str()),
            std::string::npos)
      << got.error().message;

  // So must an index's entry.
  Add(oci::kOciIndex, Index(json::array({Entry(oci::kOciManifest, asked, kAmd64)})), "latest");
  auto entry = Resolve("latest");
  ASSERT_FALSE(entry);
  EXPECT_EQ(entry.error().code, Code::kDataLoss) << entry.error().ToString();
}

TEST_F(ManifestResolverTest, CancelledEndsTheWalk) {
  Add(oci::kOciManifest, ImageManifest("plain"), "latest");
  auto got = Resolve("latest", kAmd64, [] { return true; });
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kCancelled) << got.error().ToString();
}

TEST_F(ManifestResolverTest, AMatchingEntryLeadingToAnIndexWithoutItGetsTheSameMessage) {
  const std::string arm64 = ImageManifest("arm64");
  Add(oci::kOciManifest, arm64);
  const std::string inner =
      Index(json::array({Entry(oci::kOciManifest, arm64, oci::Platform{"linux", "arm64", "v8"})}));
  Add(oci::kOciIndex, inner);
  Add(oci::kOciIndex, Index(json::array({Entry(oci::kOciIndex, inner, kAmd64)})), "latest");
  auto got = Resolve("latest");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kNotFound);
  EXPECT_EQ(got.error().message, "no image for linux/amd64 in this index; it has linux/arm64/v8");
  EXPECT_EQ(Requests(inner), 1);
}

TEST_F(ManifestResolverTest, AnEntryWithoutPlatformIsTakenWhenItsConfigMatches) {
  // As containerd: an image entry without a platform is matched on its config's.
  auto image_with_config = [&](const std::string& arch) {
    const std::string config = json{{"architecture", arch},
                                    {"os", "linux"},
                                    {"rootfs", {{"type", "layers"}, {"diff_ids", json::array()}}}}
                                   .dump();
    AddBlob(config);
    const std::string manifest = json{
        {"schemaVersion", 2},
        {"mediaType", oci::kOciManifest},
        {"config",
         {{"mediaType", oci::kOciConfig},
          {"digest", Digest::Of(config).str()},
          {"size", config.size()}}},
        {"layers", json::array()}}.dump();
    Add(oci::kOciManifest, manifest);
    return manifest;
  };
  const std::string arm64 = image_with_config("arm64");
  const std::string amd64 = image_with_config("amd64");
  Add(oci::kOciIndex,
      Index(json::array({Entry(oci::kOciManifest, arm64), Entry(oci::kOciManifest, amd64)})),
      "latest");
  auto got = Resolve("latest");
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->manifest.body, amd64);
  auto none = Resolve("latest", oci::Platform{"linux", "s390x", ""});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message,
            "no image for linux/s390x in this index; it has linux/arm64/v8, linux/amd64");
}

TEST_F(ManifestResolverTest, ArtifactsAreNotContainerImages) {
  const std::string sbom = json{
      {"schemaVersion", 2},
      {"mediaType", oci::kOciManifest},
      {"artifactType", "application/spdx+json"},
      {"config",
       {{"mediaType", "application/vnd.oci.empty.v1+json"},
        {"digest", Digest::Of("{}").str()},
        {"size", 2}}},
      {"layers",
       json::array()}}.dump();
  Add(oci::kOciManifest, sbom, "sbom");
  auto got = Resolve("sbom");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kInvalidArgument);
  EXPECT_EQ(got.error().message,
            Name() + ":sbom is not a container image (artifact type application/spdx+json)");

  // Chosen from an index, likewise.
  Add(oci::kOciIndex, Index(json::array({Entry(oci::kOciManifest, sbom, kAmd64)})), "latest");
  auto indexed = Resolve("latest");
  ASSERT_FALSE(indexed);
  EXPECT_EQ(indexed.error().message,
            Name() + ":latest is not a container image (artifact type application/spdx+json)");
}

}  // namespace
}  // namespace wharf::registry
