#include <gtest/gtest.h>

#include "wharf/base/clock.h"
#include "wharf/base/digest.h"
#include "wharf/serve/pull_tokens.h"
#include "wharf/serve/repository_name.h"
#include "wharf/serve/served_images.h"
#include "wharf/service/services_test_util.h"

namespace wharf::serve {
namespace {

TEST(RepositoryName, DockerHubAndOtherRegistries) {
  EXPECT_EQ(CanonicalRepository("ubuntu", "").value(), "docker.io/library/ubuntu");
  EXPECT_EQ(CanonicalRepository("library/ubuntu", "").value(), "docker.io/library/ubuntu");
  EXPECT_EQ(CanonicalRepository("lgsd/diamond", "").value(), "docker.io/lgsd/diamond");
  EXPECT_EQ(CanonicalRepository("ghcr.io/a/b", "").value(), "ghcr.io/a/b");
  EXPECT_EQ(CanonicalRepository("a/b", "ghcr.io").value(), "ghcr.io/a/b");
  EXPECT_EQ(CanonicalRepository("library/ubuntu", "docker.io").value(), "docker.io/library/ubuntu");
  EXPECT_EQ(CanonicalRepository("library/ubuntu", "registry-1.docker.io").value(),
            "docker.io/library/ubuntu");
  EXPECT_EQ(ServedName("docker.io/library/ubuntu"), "library/ubuntu");
  EXPECT_EQ(ServedName("ghcr.io/a/b"), "ghcr.io/a/b");
  EXPECT_EQ(FamiliarName("docker.io/library/ubuntu"), "ubuntu");
  EXPECT_EQ(FamiliarName("docker.io/lgsd/diamond"), "lgsd/diamond");
  EXPECT_EQ(FamiliarName("ghcr.io/a/b"), "ghcr.io/a/b");
}

TEST(RepositoryName, InvalidNamesAreNameInvalid) {
  for (const std::string& bad :
       std::vector<std::string>{"", "Ubuntu", "a/../b", "a//b", "a/", std::string(300, 'a')}) {
    auto r = CanonicalRepository(bad, "");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "NAME_INVALID") << bad;
    EXPECT_EQ(r.error().status, 400);
  }
  EXPECT_EQ(CanonicalRepository("a/b", "not a host").error().code, "NAME_INVALID");
  EXPECT_EQ(CanonicalRepository("a/b", "plainword").error().code, "NAME_INVALID");
}

TEST(PullScope, Parses) {
  std::string name;
  EXPECT_TRUE(ParsePullScope("repository:library/ubuntu:pull", name));
  EXPECT_EQ(name, "library/ubuntu");
  EXPECT_TRUE(ParsePullScope("repository:127.0.0.1:5000/a/b:push,pull", name));
  EXPECT_EQ(name, "127.0.0.1:5000/a/b");
  EXPECT_FALSE(ParsePullScope("repository:a/b:push", name));
  EXPECT_FALSE(ParsePullScope("registry:catalog:*", name));
  EXPECT_FALSE(ParsePullScope("repository::pull", name));
}

TEST(PullTokens, ScopedAndExpiring) {
  FakeClock clock;
  PullTokens tokens(clock, 300, 3);
  auto issued = tokens.Issue({"alice", {"docker.io/library/ubuntu"}, false, false});
  EXPECT_EQ(issued.token.size(), 64u);
  EXPECT_EQ(issued.expires_in, 300);
  auto grant = tokens.Check(issued.token);
  ASSERT_TRUE(grant);
  EXPECT_EQ(grant->username, "alice");
  EXPECT_TRUE(grant->repositories.contains("docker.io/library/ubuntu"));
  EXPECT_FALSE(tokens.Check(std::string(64, 'a')));
  EXPECT_FALSE(tokens.Check("short"));
  clock.Advance(std::chrono::seconds(301));
  EXPECT_FALSE(tokens.Check(issued.token));
}

TEST(PullTokens, BoundedForgetsTheOldest) {
  FakeClock clock;
  PullTokens tokens(clock, 300, 2);
  auto first = tokens.Issue({"a", {}, false, false});
  clock.Advance(std::chrono::seconds(1));
  auto second = tokens.Issue({"b", {}, false, false});
  auto third = tokens.Issue({"c", {}, false, false});
  EXPECT_FALSE(tokens.Check(first.token));
  EXPECT_TRUE(tokens.Check(second.token));
  EXPECT_TRUE(tokens.Check(third.token));
}

TEST(CredentialCache, RemembersBriefly) {
  FakeClock clock;
  CredentialCache cache(clock, 60, 8);
  EXPECT_FALSE(cache.Known("alice", "pw"));
  cache.Remember("alice", "pw");
  EXPECT_TRUE(cache.Known("alice", "pw"));
  EXPECT_FALSE(cache.Known("alice", "pw2"));
  EXPECT_FALSE(cache.Known("alicep", "w"));
  clock.Advance(std::chrono::seconds(61));
  EXPECT_FALSE(cache.Known("alice", "pw"));
}

class UnusedFetcher : public pull::Fetcher {
 public:
  Result<void> Fetch(const metadata::JobRecord&, pull::JobProgress&,
                     const pull::CommitFn&) override {
    return Internal("not used");
  }
};

struct ServedImagesTest : ::testing::Test {
  UnusedFetcher fetcher;
  service::TestServices s{fetcher};
  ServedImages served{s.local, *s.store};

  // Stores an image of `name`:`tag` whose manifest and one layer are real blobs.
  std::pair<std::string, std::string> Add(const std::string& name, const std::string& tag,
                                          const std::string& layer_text) {
    const std::string manifest = R"({"schemaVersion":2,"layer":")" + layer_text + "\"}";
    Digest m = Digest::Of(manifest), l = Digest::Of(layer_text);
    EXPECT_TRUE(s.store->Put(m, manifest));
    EXPECT_TRUE(s.store->Put(l, layer_text));
    metadata::ImageRecord r;
    r.type = "docker";
    r.name = name;
    r.tag = tag;
    r.display_name = name;
    r.manifest_digest = m.str();
    r.manifest_media_type = "application/vnd.oci.image.manifest.v1+json";
    r.blobs = {m.str(), l.str()};
    EXPECT_TRUE(s.images.Put(r));
    s.changes.Count();
    return {m.str(), l.str()};
  }
};

TEST_F(ServedImagesTest, ManifestsByTagAndDigest) {
  auto [manifest, layer] = Add("docker.io/library/ubuntu", "latest", "layer-one");
  auto by_tag = served.Manifest("docker.io/library/ubuntu", "latest");
  ASSERT_TRUE(by_tag);
  EXPECT_EQ(by_tag->digest, manifest);
  EXPECT_EQ(Digest::Of(by_tag->bytes).str(), manifest);
  EXPECT_EQ(by_tag->media_type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_TRUE(served.Manifest("docker.io/library/ubuntu", manifest));
  EXPECT_EQ(served.Manifest("docker.io/library/ubuntu", "nope").error().code, "MANIFEST_UNKNOWN");
  EXPECT_EQ(served.Manifest("docker.io/library/debian", "latest").error().code, "NAME_UNKNOWN");
  EXPECT_EQ(served.Manifest("docker.io/library/ubuntu", "sha256:xyz").error().code,
            "DIGEST_INVALID");
  EXPECT_EQ(served.Manifest("docker.io/library/ubuntu", "-bad").error().code, "TAG_INVALID");
}

TEST_F(ServedImagesTest, BlobsOnlyInTheirOwnRepository) {
  auto [m1, l1] = Add("docker.io/library/ubuntu", "latest", "layer-one");
  auto [m2, l2] = Add("docker.io/lgsd/diamond", "1.0", "layer-two");
  auto blob = served.Blob("docker.io/library/ubuntu", l1);
  ASSERT_TRUE(blob);
  EXPECT_EQ(blob->size, 9);
  EXPECT_EQ(served.Blob("docker.io/library/ubuntu", l2).error().code, "BLOB_UNKNOWN");
  EXPECT_EQ(served.Blob("docker.io/library/ubuntu", "sha256:00").error().code, "DIGEST_INVALID");
  EXPECT_EQ(served.Tags("docker.io/lgsd/diamond").value(), std::vector<std::string>{"1.0"});
  EXPECT_EQ(served.Repositories().value(),
            (std::vector<std::string>{"lgsd/diamond", "library/ubuntu"}));
}

TEST_F(ServedImagesTest, SeesNewImagesAfterTheCounterMoves) {
  Add("docker.io/library/ubuntu", "latest", "layer-one");
  EXPECT_EQ(served.Tags("docker.io/library/ubuntu").value().size(), 1u);
  Add("docker.io/library/ubuntu", "24.04", "layer-three");
  EXPECT_EQ(served.Tags("docker.io/library/ubuntu").value(),
            (std::vector<std::string>{"24.04", "latest"}));
}

}  // namespace
}  // namespace wharf::serve
