// Collector over a real store and SQLite: which job ends are followed by a collection (a
// failure, a commit that replaced an image of the same tag, the first after start) and which
// are not (any other commit, whose blobs its image names), and index.json written once for
// changes that one rewrite already covered.
#include "wharf/service/collector.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "wharf/base/digest.h"
#include "wharf/base/file_util.h"
#include "wharf/pull/pull_queue.h"
#include "wharf/service/services_test_util.h"

namespace wharf::service {
namespace {

namespace fs = std::filesystem;

// Fails every job: the collector is driven by hand here.
class NoFetcher : public pull::Fetcher {
 public:
  Result<void> Fetch(const metadata::JobRecord&, pull::JobProgress&,
                     const pull::CommitFn&) override {
    return Internal("not used");
  }
};

class CollectorTest : public ::testing::Test {
 protected:
  // A blob in the store that no image names.
  Digest Garbage(const std::string& content) {
    Digest d = Digest::Of(content);
    EXPECT_TRUE(s_.store->Put(d, content).has_value());
    return d;
  }
  // An image naming one blob of its own, recorded as a download's commit would.
  void Commit(const std::string& tag, const std::string& content) {
    Digest d = Digest::Of(content);
    ASSERT_TRUE(s_.store->Put(d, content).has_value());
    metadata::ImageRecord image;
    image.type = "docker";
    image.name = image.display_name = "library/nginx";
    image.tag = tag;
    image.manifest_digest = d.str();
    image.manifest_media_type = "application/vnd.oci.image.manifest.v1+json";
    image.manifest_size = static_cast<int64_t>(content.size());
    image.blobs = {d.str()};
    auto replaced = s_.images.PutAndDeleteJob(image, 0);
    ASSERT_TRUE(replaced.has_value());
    last_replaced_ = *replaced;
    s_.changes.Count();  // as the queue does for each commit
  }
  fs::file_time_type IndexTime() { return fs::last_write_time(s_.root / "index.json"); }

  NoFetcher fetcher_;
  TestServices s_{fetcher_};
  bool last_replaced_ = false;
};

TEST_F(CollectorTest, OnlyACommitThatReplacedAnImageOrTheFirstEndIsFollowedByACollection) {
  Digest before_start = Garbage("left by a kill before a collection");
  Commit("1", "manifest one");
  EXPECT_FALSE(last_replaced_);
  s_.collector.OnJobEnded(true, last_replaced_);
  EXPECT_FALSE(s_.store->Has(before_start)) << "the first end after start collects";
  EXPECT_TRUE(s_.store->Has(Digest::Of("manifest one")));

  Digest stray = Garbage("not named by anything");
  Commit("2", "manifest two");
  s_.collector.OnJobEnded(true, last_replaced_);
  EXPECT_TRUE(s_.store->Has(stray)) << "a commit that replaced nothing scans nothing";

  Commit("1", "manifest one, rebuilt");  // a new build under the same tag
  EXPECT_TRUE(last_replaced_);
  s_.collector.OnJobEnded(true, last_replaced_);
  EXPECT_FALSE(s_.store->Has(Digest::Of("manifest one"))) << "the replaced build's blob goes";
  EXPECT_FALSE(s_.store->Has(stray));
  EXPECT_TRUE(s_.store->Has(Digest::Of("manifest one, rebuilt")));
  EXPECT_TRUE(s_.store->Has(Digest::Of("manifest two")));

  Digest failed = Garbage("a failed job's layer");
  s_.collector.OnJobEnded(false, false);
  EXPECT_FALSE(s_.store->Has(failed));
}

TEST_F(CollectorTest, IndexJsonIsRewrittenOnlyForChangesNoRewriteCoveredYet) {
  Commit("1", "manifest one");
  ASSERT_TRUE(s_.collector.RefreshLayoutIndex().has_value());
  auto written = IndexTime();
  // Nothing changed since: a second caller (a download that ended during the rewrite) finds
  // its change already written.
  fs::last_write_time(s_.root / "index.json", written - std::chrono::hours(1));
  ASSERT_TRUE(s_.collector.RefreshLayoutIndex().has_value());
  EXPECT_EQ(IndexTime(), written - std::chrono::hours(1));

  Commit("2", "manifest two");
  ASSERT_TRUE(s_.collector.RefreshLayoutIndex().has_value());
  EXPECT_GT(IndexTime(), written - std::chrono::hours(1));
  std::string index = ReadFile(s_.root / "index.json").value();
  EXPECT_NE(index.find(Digest::Of("manifest two").str()), std::string::npos);
  EXPECT_NE(index.find(Digest::Of("manifest one").str()), std::string::npos);
}

}  // namespace
}  // namespace wharf::service
