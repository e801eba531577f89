// LocalListingCache: the same text while nothing changes, a new one after a download
// commits, an image is deleted or a download starts; one entry per query.
#include "wharf/api/listing.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "wharf/api/views.h"
#include "wharf/base/file_util.h"
#include "wharf/service/services_test_util.h"

namespace wharf::api {
namespace {

namespace fs = std::filesystem;

// Commits a record for every job; with hold set, waits until it is cleared.
class FakeFetcher : public pull::Fetcher {
 public:
  std::atomic<bool> hold{false};
  std::atomic<bool> started{false};
  Result<void> Fetch(const metadata::JobRecord&, pull::JobProgress&,
                     const pull::CommitFn& commit) override {
    started = true;
    for (int i = 0; i < 4000 && hold; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    metadata::ImageRecord image;
    image.manifest_digest = "sha256:" + std::string(64, 'a');
    image.config_digest = "sha256:" + std::string(64, 'b');
    return commit(image);
  }
};

class LocalListingCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(s_.queue.Start().has_value()); }

  void Download(const std::string& name) {
    ASSERT_TRUE(s_.downloads.Start({"dockerhub", "docker", name, "latest"}).has_value());
  }
  void WaitQueueEmpty() { ASSERT_TRUE(s_.WaitQueueEmpty()); }
  std::shared_ptr<const std::string> Get(const std::string& filter = "") {
    auto text = cache_.Get(s_.local, s_.downloads, ListQuery{"local", "", filter});
    EXPECT_TRUE(text.has_value()) << text.error().ToString();
    return text.value_or(nullptr);
  }
  // What the uncached path answers, serialised as the server does.
  std::string Fresh(const std::string& filter = "") {
    auto local = s_.local.List("", filter, s_.downloads.BusyNames());
    EXPECT_TRUE(local.has_value());
    nlohmann::json results = nlohmann::json::array();
    for (const auto& image : local.value_or(std::vector<service::LocalImage>{})) {
      results.push_back(LocalEntryView(image));
    }
    return ListingView("local", filter, "", std::move(results)).dump();
  }

  FakeFetcher fetcher_;
  service::TestServices s_{fetcher_};
  LocalListingCache cache_;
};

TEST_F(LocalListingCacheTest, RebuildsOnlyOnChangeAndMatchesTheUncachedListing) {
  auto empty = Get();
  EXPECT_EQ(*empty, Fresh());
  EXPECT_EQ(Get(), empty);  // the same text object: not rebuilt

  Download("team/a");
  WaitQueueEmpty();
  auto one = Get();
  EXPECT_NE(one, empty);
  EXPECT_NE(one->find("team/a"), std::string::npos);
  EXPECT_EQ(*one, Fresh());
  EXPECT_EQ(Get(), one);

  // Another query has its own entry; the first one stays.
  auto filtered = Get("nothing-matches");
  EXPECT_EQ(*filtered, Fresh("nothing-matches"));
  EXPECT_EQ(filtered->find("team/a"), std::string::npos);
  EXPECT_EQ(Get(), one);

  // A download starting marks the entry as downloading.
  fetcher_.hold = true;
  fetcher_.started = false;
  ASSERT_TRUE(s_.downloads.Start({"dockerhub", "docker", "team/a", "2.0"}).has_value());
  for (int i = 0; i < 2000 && !fetcher_.started; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto busy = Get();
  EXPECT_NE(busy->find("\"downloading\":true"), std::string::npos) << *busy;
  fetcher_.hold = false;
  WaitQueueEmpty();
  auto two_tags = Get();
  EXPECT_NE(two_tags->find("\"2.0\""), std::string::npos) << *two_tags;
  EXPECT_EQ(two_tags->find("\"downloading\":true"), std::string::npos) << *two_tags;

  ASSERT_TRUE(s_.downloads.Delete("docker", "team/a", "").has_value());
  EXPECT_EQ(*Get(), *empty);
}

}  // namespace
}  // namespace wharf::api
