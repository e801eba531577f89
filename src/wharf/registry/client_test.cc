// The client against real docker-registry processes on loopback ports: plain HTTP (reached
// through the insecure-loopback fallback), htpasswd Basic auth, and TLS with a self-signed
// certificate.
#include "wharf/registry/client.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "wharf/base/file_util.h"
#include "wharf/registry/test_registry.h"

namespace wharf::registry {
namespace {

using testing::RegistryConfig;
using testing::RegistryProcess;

constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
constexpr char kRepo[] = "test/app";

// A small image: a config blob, one 100 KB layer and an OCI manifest naming both.
struct TestImage {
  std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers",)"
                       R"("diff_ids":[]}})";
  std::string layer;
  std::string manifest;

  TestImage() {
    for (int i = 0; i < 100000; ++i) layer += static_cast<char>((i * 131 + i / 7) % 256);
    manifest = std::string(R"({"schemaVersion":2,"mediaType":")") + kOciManifest +
               R"(","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
               Digest::Of(config).str() + R"(","size":)" + std::to_string(config.size()) +
               R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" +
               Digest::Of(layer).str() + R"(","size":)" + std::to_string(layer.size()) + "}]}";
  }

  Result<void> PushTo(const RegistryProcess& registry, const std::string& repo,
                      const std::vector<std::string>& tags) const {
    WHARF_RETURN_IF_ERROR(registry.PushBlob(repo, config));
    WHARF_RETURN_IF_ERROR(registry.PushBlob(repo, layer));
    // From 4 threads: a hundred tags one after the other take seconds on a busy machine.
    std::vector<Status> failed(tags.size());
    std::vector<std::thread> pushers;
    for (size_t first = 0; first < 4; ++first) {
      pushers.emplace_back([&, first] {
        for (size_t i = first; i < tags.size(); i += 4) {
          auto pushed = registry.PushManifest(repo, tags[i], kOciManifest, manifest);
          if (!pushed) failed[i] = pushed.error();
        }
      });
    }
    for (auto& t : pushers) t.join();
    for (const Status& status : failed) {
      if (!status.ok()) return Error(status);
    }
    return {};
  }
};

reference::Reference Ref(const std::string& domain, const std::string& path,
                         const std::string& tag = "v1") {
  return reference::Reference{.domain = domain, .path = path, .tag = tag};
}

// Collects streamed blob bytes.
struct Collected {
  std::string bytes;
  BlobSink Sink() {
    return [this](const char* data, size_t n) -> Result<void> {
      bytes.append(data, n);
      return {};
    };
  }
};

// One registry for the whole suite, run in one process (SHARED_SUITES in CMakeLists.txt), with
// the image under kRepo:v1; a case that pushes more pushes to a repository of its own.
class PlainRegistryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = RegistryProcess::Start();
    ASSERT_TRUE(started) << started.error().ToString();
    registry_ = started->release();
    auto pushed = image().PushTo(*registry_, kRepo, {"v1"});
    ASSERT_TRUE(pushed) << pushed.error().ToString();
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(registry_, nullptr) << "registry did not start"; }

  static const TestImage& image() {
    static const TestImage image;
    return image;
  }
  reference::Reference AppRef() const { return Ref(registry_->host(), kRepo); }

  static RegistryProcess* registry_;
  Client client_{Options{}};
};

RegistryProcess* PlainRegistryTest::registry_ = nullptr;

TEST_F(PlainRegistryTest, LoopbackHostFallsBackToHttp) {
  EXPECT_EQ(client_.BaseUrl(registry_->host()), "http://" + registry_->host());
  // Remembered: asking again gives the same answer.
  EXPECT_EQ(client_.BaseUrl(registry_->host()), "http://" + registry_->host());
}

TEST_F(PlainRegistryTest, ManifestByTag) {
  auto got = client_.GetManifest(AppRef(), "v1");
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->body, image().manifest);
  EXPECT_EQ(got->media_type, kOciManifest);
  EXPECT_EQ(got->digest, Digest::Of(image().manifest));
}

TEST_F(PlainRegistryTest, ManifestByDigestIsVerified) {
  std::string digest = Digest::Of(image().manifest).str();
  auto got = client_.GetManifest(AppRef(), digest);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->body, image().manifest);
  EXPECT_EQ(got->digest.str(), digest);
}

TEST_F(PlainRegistryTest, ManifestByUnknownDigestFails) {
  auto got = client_.GetManifest(AppRef(), Digest::Of("something else").str());
  ASSERT_FALSE(got);
  EXPECT_TRUE(got.error().code == Code::kNotFound || got.error().code == Code::kDataLoss)
      << got.error().ToString();
}

TEST_F(PlainRegistryTest, UnknownTagAndRepositoryAreNotFound) {
  auto tag = client_.GetManifest(AppRef(), "nope");
  ASSERT_FALSE(tag);
  EXPECT_EQ(tag.error().code, Code::kNotFound) << tag.error().ToString();
  EXPECT_NE(tag.error().message.find("MANIFEST_UNKNOWN"), std::string::npos) << tag.error().message;
  EXPECT_NE(tag.error().message.find("nope"), std::string::npos) << tag.error().message;

  auto repo = client_.GetManifest(Ref(registry_->host(), "no/such/repo"), "v1");
  ASSERT_FALSE(repo);
  EXPECT_EQ(repo.error().code, Code::kNotFound) << repo.error().ToString();

  auto tags = client_.ListTags(Ref(registry_->host(), "no/such/repo"));
  ASSERT_FALSE(tags);
  EXPECT_EQ(tags.error().code, Code::kNotFound) << tags.error().ToString();
}

TEST_F(PlainRegistryTest, ManifestOverTheLimitIsTooLarge) {
  Options options;
  options.max_manifest_bytes = 64;
  Client small(options);
  auto got = small.GetManifest(AppRef(), "v1");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kTooLarge) << got.error().ToString();
  EXPECT_NE(got.error().message.find("64 bytes"), std::string::npos) << got.error().message;
}

TEST_F(PlainRegistryTest, SmallBlob) {
  auto got = client_.GetSmallBlob(AppRef(), Digest::Of(image().config));
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(*got, image().config);

  auto missing = client_.GetSmallBlob(AppRef(), Digest::Of("absent"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
}

TEST_F(PlainRegistryTest, FetchBlobWholeAndFromAnOffset) {
  const Digest digest = Digest::Of(image().layer);
  Collected whole;
  auto full = client_.FetchBlob(AppRef(), digest, {}, whole.Sink());
  ASSERT_TRUE(full) << full.error().ToString();
  EXPECT_TRUE(full->range_honoured);
  EXPECT_EQ(whole.bytes, image().layer);

  Collected tail;
  auto resumed = client_.FetchBlob(AppRef(), digest, {.offset = 40000}, tail.Sink());
  ASSERT_TRUE(resumed) << resumed.error().ToString();
  EXPECT_TRUE(resumed->range_honoured);
  EXPECT_EQ(tail.bytes, image().layer.substr(40000));
}

// A Range from the end of the blob: docker-registry answers 416 with the blob's Content-Length
// and a shorter body, then closes. That is the answer "start over", not a cut transfer.
TEST_F(PlainRegistryTest, FetchBlobFromItsEndIsARangeNotHonoured) {
  Collected sink;
  auto got = client_.FetchBlob(AppRef(), Digest::Of(image().layer),
                               {.offset = static_cast<int64_t>(image().layer.size())}, sink.Sink());
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_FALSE(got->range_honoured);
  EXPECT_TRUE(sink.bytes.empty());
}

TEST_F(PlainRegistryTest, FetchUnknownBlobIsNotFoundAndNamesIt) {
  const Digest digest = Digest::Of("no such blob");
  Collected sink;
  auto got = client_.FetchBlob(AppRef(), digest, {}, sink.Sink());
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kNotFound);
  EXPECT_NE(got.error().message.find(digest.str()), std::string::npos) << got.error().message;
  EXPECT_TRUE(sink.bytes.empty());
}

TEST_F(PlainRegistryTest, SinkErrorIsReturnedAsIs) {
  size_t seen = 0;
  BlobSink sink = [&](const char*, size_t n) -> Result<void> {
    seen += n;
    return Cancelled("stop here");
  };
  auto got = client_.FetchBlob(AppRef(), Digest::Of(image().layer), {}, sink);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kCancelled);
  EXPECT_EQ(got.error().message, "stop here");
  EXPECT_GT(seen, 0u);
}

TEST_F(PlainRegistryTest, ListTagsReturnsEveryTag) {
  std::vector<std::string> pushed_tags = {"v1"};
  for (int i = 0; i < 120; ++i) pushed_tags.push_back("t" + std::to_string(i));
  auto pushed = image().PushTo(*registry_, "test/many-tags", pushed_tags);
  ASSERT_TRUE(pushed) << pushed.error().ToString();
  auto tags = client_.ListTags(Ref(registry_->host(), "test/many-tags"));
  ASSERT_TRUE(tags) << tags.error().ToString();
  std::set<std::string> got(tags->begin(), tags->end());
  EXPECT_EQ(got.size(), 121u);
  EXPECT_EQ(tags->size(), 121u);
  EXPECT_TRUE(got.contains("t0") && got.contains("t119") && got.contains("v1"));
}

TEST_F(PlainRegistryTest, DockerHubReferencesGoToTheConfiguredRegistry) {
  auto pushed = image().PushTo(*registry_, "library/busybox", {"latest"});
  ASSERT_TRUE(pushed) << pushed.error().ToString();
  Options options;
  options.dockerhub_registry = registry_->url() + "/";
  Client hub(options);
  EXPECT_EQ(hub.BaseUrl("docker.io"), registry_->url());
  auto got = hub.GetManifest(Ref("docker.io", "library/busybox", "latest"), "latest");
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->body, image().manifest);
}

TEST_F(PlainRegistryTest, ConcurrentCallsShareOneClient) {
  const Digest digest = Digest::Of(image().layer);
  constexpr int kThreads = 8;
  std::vector<std::string> tags;
  for (int i = 0; i < kThreads; ++i) tags.push_back("t" + std::to_string(i));
  auto pushed = image().PushTo(*registry_, "test/concurrent", tags);
  ASSERT_TRUE(pushed) << pushed.error().ToString();
  const auto ref = Ref(registry_->host(), "test/concurrent");
  std::vector<std::string> bytes(kThreads);
  std::vector<bool> ok(kThreads, false);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto manifest = client_.GetManifest(ref, "t" + std::to_string(i));
      auto blob = client_.FetchBlob(ref, digest, {}, [&, i](const char* d, size_t n) {
        bytes[i].append(d, n);
        return Result<void>();
      });
      ok[i] = manifest && manifest->body == image().manifest && blob;
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_TRUE(ok[i]) << i;
    EXPECT_EQ(bytes[i], image().layer) << i;
  }
}

TEST(ClientBaseUrlTest, SchemesWithoutNetwork) {
  Options options;
  options.dockerhub_registry = "https://mirror.example.com//";
  Client client(options);
  EXPECT_EQ(client.BaseUrl("docker.io"), "https://mirror.example.com");
  // Not insecure and not loopback: https without probing.
  EXPECT_EQ(client.BaseUrl("ghcr.io"), "https://ghcr.io");
  EXPECT_EQ(client.BaseUrl("registry.example.com:5000"), "https://registry.example.com:5000");
}

TEST(ClientConnectTest, ConnectionRefusedIsUnavailableAndNamesTheHost) {
  std::string host = "127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  Client client(Options{.request_tries = 1});
  auto got = client.GetManifest(Ref(host, "a/b"), "latest");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kUnavailable);
  EXPECT_NE(got.error().message.find("registry " + host + ": connection refused"),
            std::string::npos)
      << got.error().message;
}

class BasicAuthRegistryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = RegistryProcess::Start({.username = "alice", .password = "s3cret"});
    ASSERT_TRUE(started) << started.error().ToString();
    registry_ = started->release();
    auto pushed = image().PushTo(*registry_, kRepo, {"v1"});
    ASSERT_TRUE(pushed) << pushed.error().ToString();
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(registry_, nullptr) << "registry did not start"; }

  static const TestImage& image() {
    static const TestImage image;
    return image;
  }
  static Options WithPassword(const std::string& password) {
    Options options;
    options.hosts[registry_->host()] = {.username = "alice", .password = password};
    return options;
  }

  static RegistryProcess* registry_;
};

RegistryProcess* BasicAuthRegistryTest::registry_ = nullptr;

TEST_F(BasicAuthRegistryTest, WorksWithConfiguredCredentials) {
  Client client(WithPassword("s3cret"));
  auto ref = Ref(registry_->host(), kRepo);
  auto manifest = client.GetManifest(ref, "v1");
  ASSERT_TRUE(manifest) << manifest.error().ToString();
  EXPECT_EQ(manifest->body, image().manifest);
  // Later requests send Basic straight away and still work.
  Collected layer;
  auto fetched = client.FetchBlob(ref, Digest::Of(image().layer), {}, layer.Sink());
  ASSERT_TRUE(fetched) << fetched.error().ToString();
  EXPECT_EQ(layer.bytes, image().layer);
  auto tags = client.ListTags(ref);
  ASSERT_TRUE(tags) << tags.error().ToString();
  EXPECT_EQ(*tags, std::vector<std::string>{"v1"});
}

TEST_F(BasicAuthRegistryTest, FailsWithoutCredentials) {
  Client client(Options{});
  auto got = client.GetManifest(Ref(registry_->host(), kRepo), "v1");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kUnauthenticated) << got.error().ToString();
  EXPECT_NE(got.error().message.find(registry_->host()), std::string::npos);
}

TEST_F(BasicAuthRegistryTest, FailsWithAWrongPassword) {
  Client client(WithPassword("wrong"));
  auto got = client.GetManifest(Ref(registry_->host(), kRepo), "v1");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kUnauthenticated) << got.error().ToString();
  // The registry's own words are in the message.
  EXPECT_NE(got.error().message.find("UNAUTHORIZED"), std::string::npos) << got.error().message;
}

TEST_F(BasicAuthRegistryTest, DockerHubCredentialsFollowTheConfiguredRegistry) {
  auto pushed = image().PushTo(*registry_, "library/alpine", {"latest"});
  ASSERT_TRUE(pushed) << pushed.error().ToString();
  Options options = WithPassword("s3cret");
  options.dockerhub_registry = registry_->url();
  Client client(options);
  auto got = client.GetManifest(Ref("docker.io", "library/alpine", "latest"), "latest");
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->body, image().manifest);
}

class TlsRegistryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = RegistryProcess::Start({.tls = true});
    ASSERT_TRUE(started) << started.error().ToString();
    registry_ = started->release();
    auto pushed = TestImage().PushTo(*registry_, kRepo, {"v1"});
    ASSERT_TRUE(pushed) << pushed.error().ToString();
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(registry_, nullptr) << "registry did not start"; }

  static RegistryProcess* registry_;
};

RegistryProcess* TlsRegistryTest::registry_ = nullptr;

TEST_F(TlsRegistryTest, LoopbackTlsRegistryStaysOnHttpsAndVerifies) {
  Client client(Options{});
  EXPECT_EQ(client.BaseUrl(registry_->host()), "https://" + registry_->host());
  auto got = client.GetManifest(Ref(registry_->host(), kRepo), "v1");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kUnavailable);
  const std::string& m = got.error().message;
  EXPECT_NE(m.find("registry " + registry_->host() + ": TLS certificate not trusted"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("ca_file"), std::string::npos) << m;  // says what to do
  EXPECT_EQ(m.find("tried"), std::string::npos) << m;    // not retried: it cannot help
}

TEST_F(TlsRegistryTest, CaFileOrInsecureMakesItWork) {
  Options with_ca;
  with_ca.hosts[registry_->host()].ca_file = registry_->cert_file().string();
  auto got = Client(with_ca).GetManifest(Ref(registry_->host(), kRepo), "v1");
  EXPECT_TRUE(got) << got.error().ToString();

  Options insecure;
  insecure.hosts[registry_->host()].insecure = true;
  got = Client(insecure).GetManifest(Ref(registry_->host(), kRepo), "v1");
  EXPECT_TRUE(got) << got.error().ToString();
}

}  // namespace
}  // namespace wharf::registry
