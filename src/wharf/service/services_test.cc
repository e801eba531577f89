// The service objects together, over a real store, SQLite and download queue. The local
// listing is served from memory: these cases check that it follows every change made
// through the services and the queue, without waiting for the queue's after-job callback
// (which runs only after the job has left downloadstatus).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "wharf/base/digest.h"
#include "wharf/base/file_util.h"
#include "wharf/registry/test_registry.h"
#include "wharf/service/collector.h"
#include "wharf/service/downloads.h"
#include "wharf/service/local_images.h"
#include "wharf/service/remote_images.h"
#include "wharf/service/services_test_util.h"

namespace wharf::service {
namespace {

namespace fs = std::filesystem;

// Commits an image record for every job at once, or, after Hold(), once Release() is called.
class FakeFetcher : public pull::Fetcher {
 public:
  Result<void> Fetch(const metadata::JobRecord& job, pull::JobProgress&,
                     const pull::CommitFn& commit) override {
    {
      std::unique_lock lock(mu_);
      started_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return !hold_; });
    }
    metadata::ImageRecord image;
    image.manifest_digest = "sha256:" + std::string(64, 'a');
    image.config_digest = "sha256:" + std::string(64, 'b');
    image.size = 1000 + static_cast<int64_t>(job.tag.size());
    return commit(image);
  }
  void WaitStarted() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(20), [&] { return started_; });
  }
  void Hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
    started_ = false;
  }
  void Release() {
    std::lock_guard lock(mu_);
    hold_ = false;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  bool started_ = false;
};

class ServicesTest : public ::testing::Test {
 protected:
  void TearDown() override { s_.reset(); }

  void StartQueue(pull::Fetcher& fetcher) {
    s_ = std::make_unique<TestServices>(fetcher);
    ASSERT_TRUE(s_->queue.Start().has_value());
  }

  void Download(const std::string& name, const std::string& tag) {
    DownloadRequest r{"dockerhub", "docker", name, tag};
    auto s = s_->downloads.Start(r);
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
  }

  void WaitQueueEmpty() { ASSERT_TRUE(s_->WaitQueueEmpty()); }

  std::vector<LocalImage> List(const std::string& filter = "") {
    auto local = s_->local.List("", filter, s_->downloads.BusyNames());
    EXPECT_TRUE(local.has_value()) << local.error().ToString();
    return local.value_or(std::vector<LocalImage>{});
  }

  std::unique_ptr<TestServices> s_;
};

TEST_F(ServicesTest, ListingShowsACommittedDownloadAsSoonAsItsJobIsGone) {
  FakeFetcher fetcher;
  StartQueue(fetcher);
  EXPECT_TRUE(List().empty());  // read once: now cached
  uint64_t before = s_->local.Version();

  Download("team/app", "1.0");
  WaitQueueEmpty();
  EXPECT_GT(s_->local.Version(), before);
  auto local = List();
  ASSERT_EQ(local.size(), 1u);
  EXPECT_EQ(local[0].name, "team/app");
  EXPECT_EQ(local[0].tags, std::vector<std::string>{"1.0"});

  Download("team/app", "latest");
  WaitQueueEmpty();
  local = List();
  ASSERT_EQ(local.size(), 1u);
  EXPECT_EQ(local[0].tags, (std::vector<std::string>{"1.0", "latest"}));
  EXPECT_EQ(local[0].sizes, (std::vector<int64_t>{1003, 1006}));
}

TEST_F(ServicesTest, ListingIsStableWithoutChangesAndFollowsDeletes) {
  FakeFetcher fetcher;
  StartQueue(fetcher);
  Download("team/a", "latest");
  Download("team/b", "latest");
  WaitQueueEmpty();
  ASSERT_EQ(List().size(), 2u);
  uint64_t version = s_->local.Version();
  EXPECT_EQ(List("team/b").size(), 1u);
  EXPECT_EQ(s_->local.Version(), version);  // reads do not move it

  // A record written behind the service's back is not seen: the listing really is served
  // from memory, so the cases above exercised its invalidation.
  metadata::ImageRecord hidden;
  hidden.type = "docker";
  hidden.name = "docker.io/team/hidden";
  hidden.display_name = "team/hidden";
  hidden.tag = "latest";
  ASSERT_TRUE(s_->images.Put(hidden).has_value());
  EXPECT_EQ(List().size(), 2u);

  auto deleted = s_->downloads.Delete("docker", "team/a", "");
  ASSERT_TRUE(deleted.has_value()) << deleted.error().ToString();
  EXPECT_GT(s_->local.Version(), version);
  auto local = List();  // read again after the delete: now with the hidden record
  ASSERT_EQ(local.size(), 2u);
  EXPECT_EQ(local[0].name, "team/b");
  EXPECT_EQ(local[1].name, "team/hidden");

  // Inspect's RepoTags come from the same records.
  auto inspect = s_->local.Inspect("team/a", "latest");
  ASSERT_FALSE(inspect.has_value());
  EXPECT_EQ(inspect.error().code, Code::kNotFound);
}

TEST_F(ServicesTest, DownloadingFlagFollowsTheQueue) {
  FakeFetcher held;
  StartQueue(held);
  Download("team/app", "1.0");
  WaitQueueEmpty();
  ASSERT_EQ(List().size(), 1u);
  EXPECT_FALSE(List()[0].downloading);

  held.Hold();
  Download("team/app", "2.0");
  held.WaitStarted();
  auto downloading = s_->downloads.BusyNames();
  EXPECT_TRUE(downloading.contains({"docker", "docker.io/team/app"}));
  ASSERT_EQ(List().size(), 1u);
  EXPECT_TRUE(List()[0].downloading);
  held.Release();
  WaitQueueEmpty();
  auto local = List();
  ASSERT_EQ(local.size(), 1u);
  EXPECT_FALSE(local[0].downloading);
  EXPECT_EQ(local[0].tags, (std::vector<std::string>{"1.0", "2.0"}));
}

// A registry whose index and platform manifest answer at once while what comes next drips
// (100 bytes, one every 200 ms: 20 s, never stalling): the platform manifest when
// `drip_platform`, else the config; and the tag list.
struct DrippingRegistry {
  static constexpr char kManifestType[] = "application/vnd.oci.image.manifest.v1+json";
  const std::string config = R"({"architecture":"amd64","os":"linux"})";
  const std::string platform_manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      Digest::Of(config).str() + R"(","size":)" + std::to_string(config.size()) +
      R"(},"layers":[]})";
  const std::string index =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
      R"("manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
      Digest::Of(platform_manifest).str() + R"(","size":)" +
      std::to_string(platform_manifest.size()) +
      R"(,"platform":{"architecture":"amd64","os":"linux"}}]})";
  std::atomic<bool> drip_platform{true};
  registry::testing::FakeHttpServer server{
      [this](const registry::testing::FakeRequest& r) -> registry::testing::FakeResponse {
        const std::string manifests = "/v2/app/manifests/";
        if (r.target == "/v2/") return {200, {}, "{}"};
        if (r.target == manifests + "latest") {
          return {200, {{"Content-Type", "application/vnd.oci.image.index.v1+json"}}, index};
        }
        if (r.target == manifests + Digest::Of(platform_manifest).str() && !drip_platform) {
          return {200, {{"Content-Type", kManifestType}}, platform_manifest};
        }
        return {200, {}, std::string(100, ' '), std::string::npos, 200};
      }};
};

// The hook of a caller who gives up once `server` was asked for a target under `prefix` (whose
// answer drips).
std::function<bool()> CancelOnceAsked(const registry::testing::FakeHttpServer& server,
                                      const std::string& prefix) {
  return [&server, prefix] { return server.CountRequests(prefix) > 0; };
}

TEST_F(ServicesTest, RemoteInspectAndTagsAreCutWhenTheCallerCancels) {
  FakeFetcher fetcher;
  StartQueue(fetcher);
  DrippingRegistry registry;
  const auto& server = registry.server;
  const std::string name = server.host() + "/app";
  auto expect_cut = [&](auto call, const std::string& message) {
    const auto start = std::chrono::steady_clock::now();
    auto got = call();
    // Well before the drip's 20 s: cut by the caller.
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code, Code::kCancelled) << got.error().ToString();
    EXPECT_EQ(got.error().message, message);
  };
  const std::string from = " from registry " + server.host();
  // The index answers; the platform manifest it names drips.
  expect_cut(
      [&] {
        return s_->remote.Inspect(name, "latest", CancelOnceAsked(server, "/v2/app/manifests/sha"));
      },
      "cancelled while fetching the manifest of " + name + "@" +
          Digest::Of(registry.platform_manifest).str() + from);
  // Both manifests answer; the config drips.
  registry.drip_platform = false;
  expect_cut(
      [&] { return s_->remote.Inspect(name, "latest", CancelOnceAsked(server, "/v2/app/blobs/")); },
      "cancelled while fetching the blob " + Digest::Of(registry.config).str() + " of " + name +
          from);
  expect_cut([&] { return s_->remote.Tags(name, false, CancelOnceAsked(server, "/v2/app/tags/")); },
             "cancelled while fetching the tag list of " + name + from);
}

}  // namespace
}  // namespace wharf::service
