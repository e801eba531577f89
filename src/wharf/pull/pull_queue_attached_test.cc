// Attached jobs (the import of an image archive, run by its caller): listed "importing" with
// their progress, cancelled through Cancel, ended by Finish as done, cancelled or failed, never
// recorded in the job store; the images of a done one are handed off and announced.
#include "wharf/pull/pull_queue_test_util.h"

namespace wharf::pull {
namespace {

using namespace std::chrono_literals;

class AttachedJobTest : public PullQueueTest {};

metadata::ImageRecord Imported(const std::string& tag) {
  metadata::ImageRecord image;
  image.type = "docker";
  image.name = "docker.io/team/app";
  image.display_name = "team/app";
  image.tag = tag;
  return image;
}

TEST_F(AttachedJobTest, AnAttachedJobIsListedWithItsProgressAndNotStored) {
  StartQueue();
  auto job = queue_->Attach("docker", "app.tar", "import-1");
  job.progress().bytes_total = 1000;
  job.progress().bytes_done = 250;
  auto listed = queue_->List();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].name, "app.tar");
  EXPECT_EQ(listed[0].tag, "import-1");
  EXPECT_EQ(listed[0].status, "importing");
  EXPECT_EQ(listed[0].bytes_done, 250);
  EXPECT_EQ(listed[0].bytes_total, 1000);
  EXPECT_EQ(queue_->Stats().running, 1);
  EXPECT_TRUE(StoredJobs().empty());
}

TEST_F(AttachedJobTest, AFinishedAttachedJobHandsOffAndAnnouncesItsImages) {
  std::vector<std::string> handed;
  hand_off_ = [&](const metadata::ImageRecord& image, const std::atomic<bool>&) -> Result<void> {
    handed.push_back(image.tag);
    return {};
  };
  auto sub = events_.Subscribe(-1);
  StartQueue({}, /*with_events=*/true);
  auto job = queue_->Attach("docker", "app.tar", "import-1");
  queue_->Finish(job, {Imported("1.0"), Imported("2.0")}, nullptr);
  EXPECT_TRUE(queue_->List().empty());
  EXPECT_EQ(handed, (std::vector<std::string>{"1.0", "2.0"}));
  EXPECT_EQ(queue_->Stats().done, 1);
  EXPECT_EQ(committed_.load(), 1);
  using Statuses = std::vector<std::string>;
  EXPECT_EQ(StatusesOf(*sub, "import-1", "done"), (Statuses{"importing", "handoff", "done"}));
  std::set<std::string> added;
  while (auto event = sub->Next(0)) {
    if (event->type == "image") added.insert(nlohmann::json::parse(event->data)["tag"]);
  }
  EXPECT_EQ(added, (std::set<std::string>{"1.0", "2.0"}));
}

TEST_F(AttachedJobTest, CancelStopsAnAttachedJobAndAFailedOneStaysListed) {
  StartQueue({.failed_ttl_s = 60});
  auto cancelled = queue_->Attach("docker", "a.tar", "import-1");
  auto failed = queue_->Attach("docker", "b.tar", "import-2");
  ASSERT_TRUE(queue_->Cancel("docker", "a.tar", "import-1").has_value());
  EXPECT_TRUE(cancelled.progress().cancel.load());
  EXPECT_FALSE(failed.progress().cancel.load());
  const wharf::Status stopped{Code::kCancelled, "import cancelled"};
  queue_->Finish(cancelled, {}, &stopped);
  const wharf::Status bad{Code::kInvalidArgument, "not a tar archive"};
  queue_->Finish(failed, {}, &bad);
  EXPECT_EQ(Status("import-1"), "");
  EXPECT_EQ(Status("import-2"), "failed");
  EXPECT_EQ(queue_->List()[0].error, "not a tar archive");
  EXPECT_EQ(queue_->Stats().cancelled, 1);
  EXPECT_EQ(queue_->Stats().failed, 1);
  EXPECT_EQ(collected_.load(), 2);  // what they left is collected
  clock_.Advance(60s);
  EXPECT_TRUE(queue_->List().empty());
  EXPECT_TRUE(StoredJobs().empty());
}

}  // namespace
}  // namespace wharf::pull
