// Client::HeadManifest: against a real docker-registry (an image and an index, as GetManifest
// sees them; an unknown tag), and against small fake servers for what docker-registry does not
// do: Bearer tokens, an answer without Docker-Content-Digest, Docker Hub's rate-limit headers,
// 429 with Retry-After, a mirror.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "wharf/base/clock.h"
#include "wharf/base/digest.h"
#include "wharf/registry/client.h"
#include "wharf/registry/test_registry.h"

namespace wharf::registry {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;
using testing::RegistryProcess;

constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
constexpr char kOciIndex[] = "application/vnd.oci.image.index.v1+json";
constexpr char kRepo[] = "test/head";

// The manifest of an image with one tiny layer, and an index naming it for linux/amd64.
struct ImageAndIndex {
  std::string config = R"({"architecture":"amd64","os":"linux"})";
  std::string layer = "a layer";
  std::string manifest = std::string(R"({"schemaVersion":2,"mediaType":")") + kOciManifest +
                         R"(","config":{"mediaType":"application/vnd.oci.image.config.v1+json",)" +
                         Descriptor(config) + R"(},"layers":[{"mediaType":)" +
                         R"("application/vnd.oci.image.layer.v1.tar",)" + Descriptor(layer) + "}]}";
  std::string index = std::string(R"({"schemaVersion":2,"mediaType":")") + kOciIndex +
                      R"(","manifests":[{"mediaType":")" + kOciManifest + R"(",)" +
                      Descriptor(manifest) +
                      R"(,"platform":{"architecture":"amd64","os":"linux"}}]})";

  static std::string Descriptor(const std::string& bytes) {
    return R"("digest":")" + Digest::Of(bytes).str() + R"(","size":)" +
           std::to_string(bytes.size());
  }
};

reference::Reference Ref(const std::string& domain, const std::string& path = kRepo) {
  return reference::Reference{.domain = domain, .path = path, .tag = "latest"};
}

class HeadManifestRegistryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = RegistryProcess::Start();
    ASSERT_TRUE(started) << started.error().ToString();
    registry_ = started->release();
    const ImageAndIndex pushed;
    for (const auto& blob : {pushed.config, pushed.layer}) {
      auto r = registry_->PushBlob(kRepo, blob);
      ASSERT_TRUE(r) << r.error().ToString();
    }
    auto image = registry_->PushManifest(kRepo, "image", kOciManifest, pushed.manifest);
    ASSERT_TRUE(image) << image.error().ToString();
    auto index = registry_->PushManifest(kRepo, "multi", kOciIndex, pushed.index);
    ASSERT_TRUE(index) << index.error().ToString();
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(registry_, nullptr) << "registry did not start"; }

  static RegistryProcess* registry_;
  // docker-registry keeps connections open: a HEAD that waited for its Content-Length of body
  // would stall, and fail after this second rather than pass late.
  Client client_{Options{.stall_timeout_s = 1, .request_tries = 1}};
};

RegistryProcess* HeadManifestRegistryTest::registry_ = nullptr;

TEST_F(HeadManifestRegistryTest, DigestIsGetManifestsForAnImageAndAnIndex) {
  const ImageAndIndex pushed;
  for (const auto& [tag, body, type] : {std::tuple{"image", pushed.manifest, kOciManifest},
                                        std::tuple{"multi", pushed.index, kOciIndex}}) {
    SCOPED_TRACE(tag);
    auto head = client_.HeadManifest(Ref(registry_->host()), tag);
    ASSERT_TRUE(head) << head.error().ToString();
    auto got = client_.GetManifest(Ref(registry_->host()), tag);
    ASSERT_TRUE(got) << got.error().ToString();
    EXPECT_EQ(head->digest, got->digest);
    EXPECT_EQ(head->digest, Digest::Of(body));
    EXPECT_EQ(head->media_type, type);
    EXPECT_EQ(head->size, static_cast<int64_t>(body.size()));
    EXPECT_FALSE(head->ratelimit_remaining);  // not Docker Hub
    EXPECT_FALSE(head->ratelimit_limit);
  }
}

TEST_F(HeadManifestRegistryTest, UnknownTagOrRepositoryIsNotFound) {
  auto tag = client_.HeadManifest(Ref(registry_->host()), "nope");
  ASSERT_FALSE(tag);
  EXPECT_EQ(tag.error().code, Code::kNotFound) << tag.error().ToString();
  EXPECT_NE(tag.error().message.find("manifest nope"), std::string::npos) << tag.error().message;

  auto repo = client_.HeadManifest(Ref(registry_->host(), "no/such/repo"), "latest");
  ASSERT_FALSE(repo);
  EXPECT_EQ(repo.error().code, Code::kNotFound) << repo.error().ToString();
}

TEST(HeadManifestTest, AnInvalidTagIsRefusedBeforeAnyRequest) {
  Client client(Options{});
  for (const char* tag : {"", "sha256:abc", "-x", "a/b"}) {
    auto got = client.HeadManifest(Ref("127.0.0.1:1"), tag);
    ASSERT_FALSE(got) << tag;
    EXPECT_EQ(got.error().code, Code::kInvalidArgument) << got.error().ToString();
  }
}

constexpr char kManifest[] = R"({"schemaVersion":2,"mediaType":"x"})";

// The clock of the tests that do not look at it: its sleeps return at once.
FakeClock& SharedClock() {
  static FakeClock clock;
  return clock;
}

// Options for a client whose Docker Hub is `registry`, waiting on `clock`.
Options HubAt(const FakeHttpServer& registry, Clock& clock = SharedClock()) {
  return Options{.dockerhub_registry = "http://" + registry.host(),
                 .request_tries = 3,
                 .backoff_ms = 10,
                 .max_backoff_ms = 40,
                 .clock = &clock};
}

// kManifest as a registry answers a GET or HEAD of it; Docker-Content-Digest is `digest`
// ("" leaves it out), and `extra` headers follow.
FakeResponse ManifestAnswer(const std::string& digest,
                            std::vector<std::pair<std::string, std::string>> extra = {}) {
  FakeResponse response{
      200, {{"Content-Type", std::string(kOciManifest) + "; charset=utf-8"}}, kManifest};
  if (!digest.empty()) response.headers.push_back({"Docker-Content-Digest", digest});
  for (auto& header : extra) response.headers.push_back(std::move(header));
  return response;
}

std::vector<std::string> Methods(const FakeHttpServer& server) {
  std::vector<std::string> methods;
  for (const FakeRequest& request : server.requests()) {
    methods.push_back(request.method + " " + request.target);
  }
  return methods;
}

const std::string kManifestPath = "/v2/library/app/manifests/latest";

TEST(HeadManifestTest, AnAnswerWithoutAValidDigestIsAskedAgainWithAGet) {
  for (const std::string digest : {"", "sha256:not-hex", "md5:0123"}) {
    SCOPED_TRACE(digest);
    FakeHttpServer registry([&](const FakeRequest&) { return ManifestAnswer(digest); });
    Client client(HubAt(registry));
    auto head = client.HeadManifest(Ref("docker.io", "library/app"), "latest");
    ASSERT_TRUE(head) << head.error().ToString();
    EXPECT_EQ(head->digest, Digest::Of(kManifest));
    EXPECT_EQ(head->media_type, kOciManifest);
    EXPECT_EQ(head->size, static_cast<int64_t>(sizeof kManifest - 1));
    EXPECT_EQ(Methods(registry),
              (std::vector<std::string>{"HEAD " + kManifestPath, "GET " + kManifestPath}));
  }
}

TEST(HeadManifestTest, RateLimitHeadersAreRead) {
  const std::string digest = Digest::Of("what the tag names").str();
  FakeHttpServer registry([&](const FakeRequest&) {
    return ManifestAnswer(
        digest, {{"RateLimit-Limit", "100;w=21600"}, {"RateLimit-Remaining", "76;w=21600"}});
  });
  Client client(HubAt(registry));
  auto head = client.HeadManifest(Ref("docker.io", "library/app"), "latest");
  ASSERT_TRUE(head) << head.error().ToString();
  EXPECT_EQ(head->digest.str(), digest);  // the header's, not the body's: no GET
  EXPECT_EQ(head->size, static_cast<int64_t>(sizeof kManifest - 1));
  EXPECT_EQ(head->ratelimit_remaining, 76);
  EXPECT_EQ(head->ratelimit_limit, 100);
  EXPECT_EQ(Methods(registry), std::vector<std::string>{"HEAD " + kManifestPath});
}

TEST(HeadManifestTest, RateLimitValuesThatAreNotCountsAreLeftOut) {
  const std::string digest = Digest::Of(kManifest).str();
  for (const auto& [value, expected] :
       std::vector<std::pair<std::string, std::optional<int64_t>>>{{"0;w=21600", 0},
                                                                   {"76", 76},
                                                                   {" 5 ; w=60", 5},
                                                                   {"many", std::nullopt},
                                                                   {"-1;w=60", std::nullopt},
                                                                   {"7x;w=60", std::nullopt},
                                                                   {"", std::nullopt}}) {
    SCOPED_TRACE(value);
    FakeHttpServer registry([&](const FakeRequest&) {
      return ManifestAnswer(digest, {{"RateLimit-Remaining", value}});
    });
    auto head = Client(HubAt(registry)).HeadManifest(Ref("docker.io", "library/app"), "latest");
    ASSERT_TRUE(head) << head.error().ToString();
    EXPECT_EQ(head->ratelimit_remaining, expected);
  }
}

TEST(HeadManifestTest, TooManyRequestsWithRetryAfterIsWaitedFor) {
  std::atomic<int> calls{0};
  const std::string digest = Digest::Of(kManifest).str();
  FakeHttpServer registry([&](const FakeRequest&) {
    if (++calls == 1) {
      return FakeResponse{429,
                          {{"Retry-After", "1"}, {"Content-Type", "application/json"}},
                          R"({"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]})"};
    }
    return ManifestAnswer(digest);
  });
  FakeClock clock;
  Client client(HubAt(registry, clock));
  auto head = client.HeadManifest(Ref("docker.io", "library/app"), "latest");
  ASSERT_TRUE(head) << head.error().ToString();
  EXPECT_EQ(head->digest.str(), digest);
  EXPECT_EQ(clock.slept(), std::chrono::seconds(1));  // not the 5-10 ms backoff
  EXPECT_EQ(Methods(registry),
            (std::vector<std::string>{"HEAD " + kManifestPath, "HEAD " + kManifestPath}));
}

TEST(HeadManifestTest, ABearerChallengeToAHeadIsAnsweredWithAToken) {
  FakeHttpServer tokens([](const FakeRequest&) {
    return FakeResponse{200, {{"Content-Type", "application/json"}}, R"({"token":"abc"})"};
  });
  const std::string digest = Digest::Of(kManifest).str();
  FakeHttpServer registry([&](const FakeRequest& request) {
    if (request.Header("authorization") == "Bearer abc") return ManifestAnswer(digest);
    // As a HEAD's 401 reaches the client: the challenge, and a Content-Length but no body.
    return FakeResponse{401,
                        {{"WWW-Authenticate", "Bearer realm=\"http://" + tokens.host() +
                                                  "/token\",service=\"fake\",scope=\"" +
                                                  "repository:library/app:pull\""}},
                        R"({"errors":[{"code":"UNAUTHORIZED"}]})"};
  });
  Client client(HubAt(registry));
  for (int i = 0; i < 2; ++i) {
    auto head = client.HeadManifest(Ref("docker.io", "library/app"), "latest");
    ASSERT_TRUE(head) << head.error().ToString();
    EXPECT_EQ(head->digest.str(), digest);
  }
  // The first HEAD is challenged and sent again with the token; the second has it at once.
  EXPECT_EQ(Methods(registry),
            (std::vector<std::string>{"HEAD " + kManifestPath, "HEAD " + kManifestPath,
                                      "HEAD " + kManifestPath}));
  EXPECT_EQ(tokens.CountRequests("/token"), 1);
  EXPECT_EQ(registry.requests().back().Header("authorization"), "Bearer abc");
}

TEST(HeadManifestTest, AMirrorAnswersBeforeTheRegistry) {
  const std::string digest = Digest::Of("from the mirror").str();
  FakeHttpServer mirror([&](const FakeRequest&) { return ManifestAnswer(digest); });
  FakeHttpServer registry([](const FakeRequest&) { return FakeResponse{500, {}, ""}; });
  Options options = HubAt(registry);
  options.mirrors = {"http://" + mirror.host()};
  auto head = Client(options).HeadManifest(Ref("docker.io", "library/app"), "latest");
  ASSERT_TRUE(head) << head.error().ToString();
  EXPECT_EQ(head->digest.str(), digest);
  EXPECT_EQ(Methods(mirror), std::vector<std::string>{"HEAD " + kManifestPath});
  EXPECT_TRUE(registry.requests().empty());
}

}  // namespace
}  // namespace wharf::registry
