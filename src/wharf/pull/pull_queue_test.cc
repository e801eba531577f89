// PullQueue with a fake fetcher over a real SQLite database in a temporary directory:
// joining, the concurrency limit, job states, cancel, failed-job expiry, jobs of a type with
// no fetcher, and resume at Start. Nothing sleeps for long: every wait is on a condition with
// a bounded deadline.
#include "wharf/pull/pull_queue_test_util.h"

namespace wharf::pull {
namespace {

using namespace std::chrono_literals;

TEST_F(PullQueueTest, JoinsDuplicateRequestsWaitingOrRunning) {
  StartQueue({.max_concurrent = 1});
  fetcher_.Hold("1.0");
  fetcher_.Hold("2.0");
  Submit("1.0");
  ASSERT_TRUE(WaitStatus("1.0", "downloading"));
  Submit("2.0");  // waits behind 1.0
  Submit("1.0");  // joins the running job
  Submit("2.0");  // joins the waiting job
  EXPECT_EQ(queue_->List().size(), 2u);
  EXPECT_EQ(StoredJobs().size(), 2u);

  fetcher_.Release("1.0");
  fetcher_.Release("2.0");
  ASSERT_TRUE(WaitFor([&] { return queue_->List().empty(); }));
  EXPECT_EQ(fetcher_.Calls("1.0"), 1);
  EXPECT_EQ(fetcher_.Calls("2.0"), 1);
  EXPECT_TRUE(HasImage("1.0"));
  EXPECT_TRUE(HasImage("2.0"));
  EXPECT_TRUE(StoredJobs().empty());
  EXPECT_EQ(queue_->Stats().done, 2);
  EXPECT_EQ(changes_.version(), 2u);  // counted with each commit, for the listing's cache
}

// Start resumes "waiting" and "downloading" alike, so a job's start is not written (it would
// cost every download one more fsync): the database holds the job as submitted until its
// image is recorded in the same transaction that removes it.
TEST_F(PullQueueTest, ARunningJobIsStoredAsSubmittedAndItsCommitSaysIfItReplacedAnImage) {
  StartQueue({.max_concurrent = 1});
  fetcher_.Hold("1.0");
  Submit("1.0");
  ASSERT_TRUE(WaitStatus("1.0", "downloading"));
  ASSERT_TRUE(WaitFor([&] { return fetcher_.Calls("1.0") == 1; }));
  auto stored = StoredJobs();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].state, "waiting");
  fetcher_.Release("1.0");
  ASSERT_TRUE(WaitFor([&] { return HasImage("1.0"); }));
  EXPECT_TRUE(StoredJobs().empty());
  ASSERT_TRUE(WaitFor([&] { return committed_ == 1; }));
  EXPECT_EQ(replaced_, 0);  // the callback is told no earlier image was replaced

  Submit("1.0");  // the same tag again: its commit replaces the record
  ASSERT_TRUE(WaitFor([&] { return committed_ == 2; }));
  EXPECT_EQ(replaced_, 1);
}

TEST_F(PullQueueTest, RunsAtMostMaxConcurrentJobs) {
  StartQueue({.max_concurrent = 2});
  const std::vector<std::string> tags = {"a", "b", "c", "d", "e"};
  for (const auto& tag : tags) fetcher_.Hold(tag);
  for (const auto& tag : tags) Submit(tag);
  ASSERT_TRUE(WaitFor([&] { return fetcher_.Running() == 2; }));
  // Give a third worker, if there were one, the time to pick a job up.
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(fetcher_.Running(), 2);
  QueueStats stats = queue_->Stats();
  EXPECT_EQ(stats.running, 2);
  EXPECT_EQ(stats.waiting, 3);
  int waiting = 0;
  for (const auto& job : queue_->List()) waiting += job.status == "waiting" ? 1 : 0;
  EXPECT_EQ(waiting, 3);

  for (const auto& tag : tags) fetcher_.Release(tag);
  ASSERT_TRUE(WaitFor([&] { return queue_->List().empty(); }));
  EXPECT_EQ(fetcher_.MaxRunning(), 2);
  for (const auto& tag : tags) EXPECT_TRUE(HasImage(tag)) << tag;
  // The after-job callback runs once the job has left the list: wait for the last one.
  EXPECT_TRUE(WaitFor([&] { return committed_.load() == 5; })) << committed_.load();
}

TEST_F(PullQueueTest, JobsGoFromWaitingToDownloadingToDoneOrFailed) {
  auto sub = events_.Subscribe(-1);
  StartQueue({.max_concurrent = 1}, /*with_events=*/true);
  fetcher_.Hold("ok");
  fetcher_.Hold("bad");
  fetcher_.Fail("bad");
  Submit("ok");
  ASSERT_TRUE(WaitStatus("ok", "downloading"));
  Submit("bad");
  EXPECT_EQ(Status("bad"), "waiting");
  EXPECT_FALSE(HasImage("ok"));

  fetcher_.Release("ok");
  ASSERT_TRUE(WaitStatus("bad", "downloading"));
  EXPECT_EQ(Status("ok"), "");
  EXPECT_TRUE(HasImage("ok"));
  fetcher_.Release("bad");
  ASSERT_TRUE(WaitStatus("bad", "failed"));

  auto listed = queue_->List();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].error, "registry down for bad");
  EXPECT_FALSE(HasImage("bad"));
  auto stored = StoredJobs();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].state, "failed");
  EXPECT_EQ(stored[0].error, "registry down for bad");
  EXPECT_EQ(stored[0].finished_at, clock_.NowSeconds());
  EXPECT_EQ(queue_->Stats().done, 1);
  EXPECT_EQ(queue_->Stats().failed, 1);
  ASSERT_TRUE(WaitFor([&] { return committed_ == 1 && collected_ == 1; }));

  using Statuses = std::vector<std::string>;
  EXPECT_EQ(StatusesOf(*sub, "ok", "done"), (Statuses{"waiting", "downloading", "done"}));
  auto sub_bad = events_.Subscribe(0);  // replays from the first event
  EXPECT_EQ(StatusesOf(*sub_bad, "bad", "failed"), (Statuses{"waiting", "downloading", "failed"}));
}

TEST_F(PullQueueTest, AnErrorThatIsNotUtf8IsPublishedWithoutThrowing) {
  auto sub = events_.Subscribe(-1);
  StartQueue({}, /*with_events=*/true);
  fetcher_.Fail("1.0", "registry says \xff\xfe");  // e.g. an error page in Latin-1
  Submit("1.0");
  ASSERT_TRUE(WaitStatus("1.0", "failed"));
  EXPECT_EQ(queue_->List()[0].error, "registry says \xff\xfe");  // kept as it came
  EXPECT_EQ(StatusesOf(*sub, "1.0", "failed").back(), "failed");
}

TEST_F(PullQueueTest, CancelsWaitingAndRunningJobs) {
  StartQueue({.max_concurrent = 1});
  fetcher_.Hold("running");
  Submit("running");
  ASSERT_TRUE(WaitStatus("running", "downloading"));
  Submit("waiting");

  auto cancelled = queue_->Cancel("docker", "docker.io/team/app", "waiting");
  ASSERT_TRUE(cancelled.has_value()) << cancelled.error().ToString();
  EXPECT_EQ(Status("waiting"), "");
  EXPECT_EQ(StoredJobs().size(), 1u);
  EXPECT_EQ(collected_.load(), 1);  // its partial downloads are collected

  cancelled = queue_->Cancel("docker", "docker.io/team/app", "running");
  ASSERT_TRUE(cancelled.has_value()) << cancelled.error().ToString();
  ASSERT_TRUE(WaitFor([&] { return queue_->List().empty(); }));
  EXPECT_TRUE(StoredJobs().empty());
  EXPECT_FALSE(HasImage("running"));
  EXPECT_EQ(fetcher_.Calls("waiting"), 0);
  EXPECT_EQ(queue_->Stats().cancelled, 2);
  EXPECT_EQ(queue_->Stats().failed, 0);

  auto missing = queue_->Cancel("docker", "docker.io/team/app", "running");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, Code::kNotFound);
}

TEST_F(PullQueueTest, FailedJobsExpireAfterFailedTtl) {
  StartQueue({.failed_ttl_s = 60});
  fetcher_.Fail("1.0");
  Submit("1.0");
  ASSERT_TRUE(WaitStatus("1.0", "failed"));
  clock_.Advance(59s);
  EXPECT_EQ(Status("1.0"), "failed");
  EXPECT_EQ(StoredJobs().size(), 1u);
  EXPECT_FALSE(queue_->Busy("docker", "docker.io/team/app", "1.0"));
  clock_.Advance(1s);
  EXPECT_TRUE(queue_->List().empty());
  EXPECT_TRUE(StoredJobs().empty());
}

TEST_F(PullQueueTest, ASubmitReplacesAFailedJob) {
  StartQueue();
  fetcher_.Fail("1.0");
  Submit("1.0");
  ASSERT_TRUE(WaitStatus("1.0", "failed"));
  auto dismissed = queue_->Cancel("docker", "docker.io/team/app", "1.0");
  ASSERT_TRUE(dismissed.has_value());  // a failed job can be dismissed
  EXPECT_TRUE(StoredJobs().empty());

  Submit("1.0");
  ASSERT_TRUE(WaitStatus("1.0", "failed"));
  EXPECT_EQ(fetcher_.Calls("1.0"), 2);
  Submit("1.0");  // not joined: tried again
  ASSERT_TRUE(WaitFor([&] { return fetcher_.Calls("1.0") == 3; }));
  ASSERT_TRUE(WaitStatus("1.0", "failed"));
  EXPECT_EQ(StoredJobs().size(), 1u);
}

TEST_F(PullQueueTest, AResumedJobOfATypeWithNoFetcherFailsWithoutThrowing) {
  metadata::JobRecord lxc = Job("3.18", "lxc");
  lxc.state = "downloading";  // interrupted by a stop
  ASSERT_TRUE(metadata_->jobs.Add(lxc).has_value());
  StartQueue();
  ASSERT_TRUE(WaitStatus("3.18", "failed"));
  auto listed = queue_->List();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].type, "lxc");
  EXPECT_EQ(listed[0].error, "no fetcher for jobs of type lxc");
  auto stored = StoredJobs();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].state, "failed");
  EXPECT_EQ(stored[0].error, "no fetcher for jobs of type lxc");
  EXPECT_EQ(queue_->Stats().failed, 1);

  // The queue carries on, and new jobs of that type are refused up front.
  Submit("1.0");
  ASSERT_TRUE(WaitFor([&] { return HasImage("1.0"); }));
  auto refused = queue_->Submit(Job("3.19", "lxc"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, Code::kInvalidArgument);
}

TEST_F(PullQueueTest, StartResumesUnfinishedJobsAndKeepsFailedOnes) {
  const std::vector<std::pair<std::string, std::string>> recorded = {
      {"waiting", "waiting"}, {"interrupted", "downloading"}, {"failed", "failed"}};
  for (const auto& [tag, state] : recorded) {
    metadata::JobRecord job = Job(tag);
    job.state = state;
    job.finished_at = state == "failed" ? clock_.NowSeconds() : 0;
    job.error = state == "failed" ? "earlier error" : "";
    ASSERT_TRUE(metadata_->jobs.Add(job).has_value());
  }
  StartQueue();
  ASSERT_TRUE(WaitFor([&] { return HasImage("waiting") && HasImage("interrupted"); }));
  ASSERT_TRUE(WaitFor([&] { return queue_->List().size() == 1; }));
  EXPECT_EQ(Status("failed"), "failed");
  EXPECT_EQ(queue_->List()[0].error, "earlier error");
  EXPECT_EQ(fetcher_.Calls("failed"), 0);
  auto stored = StoredJobs();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].tag, "failed");
}

TEST_F(PullQueueTest, AJobStoppedByShutdownResumesAtTheNextStart) {
  StartQueue();
  fetcher_.Hold("1.0");
  Submit("1.0");
  ASSERT_TRUE(WaitStatus("1.0", "downloading"));
  queue_->Stop();  // the fetcher sees the cancel flag and stops
  queue_.reset();
  EXPECT_FALSE(HasImage("1.0"));
  ASSERT_EQ(StoredJobs().size(), 1u);
  EXPECT_EQ(collected_.load(), 0);  // nothing failed: nothing to collect

  // A new daemon over the same database.
  OpenStores();
  fetcher_.Release("1.0");
  StartQueue();
  ASSERT_TRUE(WaitFor([&] { return HasImage("1.0"); }));
  ASSERT_TRUE(WaitFor([&] { return queue_->List().empty(); }));
  EXPECT_EQ(fetcher_.Calls("1.0"), 2);
  EXPECT_TRUE(StoredJobs().empty());
}

}  // namespace
}  // namespace wharf::pull

namespace wharf::pull {
namespace {

// The hand-off runs after the commit, with the image recorded and the job shown as
// "handoff"; its failure leaves the image and is the error of the job's "done" event.
TEST_F(PullQueueTest, HandOffRunsAfterTheCommitAndItsErrorEndsInTheDoneEvent) {
  std::atomic<bool> release{false};
  std::atomic<bool> image_was_there{false};
  std::atomic<bool> entered{false};
  hand_off_ = [&](const metadata::ImageRecord& image, const std::atomic<bool>& cancel) {
    image_was_there =
        HasImage(image.tag) && image.manifest_digest == "sha256:" + std::string(64, 'a');
    entered = true;
    while (!release && !cancel) std::this_thread::sleep_for(1ms);
    return image.tag == "bad" ? Result<void>(Unavailable("engine down")) : Result<void>();
  };
  auto sub = events_.Subscribe(-1);
  StartQueue({}, /*with_events=*/true);
  Submit("ok");
  ASSERT_TRUE(WaitStatus("ok", "handoff"));
  ASSERT_TRUE(WaitFor([&] { return entered.load(); }));
  EXPECT_TRUE(image_was_there);
  EXPECT_TRUE(queue_->Busy("docker", "docker.io/team/app", "ok")) << "not deletable meanwhile";
  release = true;
  ASSERT_TRUE(WaitFor([&] { return Status("ok").empty(); }));
  using Statuses = std::vector<std::string>;
  EXPECT_EQ(StatusesOf(*sub, "ok", "done"),
            (Statuses{"waiting", "downloading", "handoff", "done"}));

  Submit("bad");
  auto last = [&]() -> nlohmann::json {
    for (auto event = sub->Next(10'000); event; event = sub->Next(10'000)) {
      auto json = nlohmann::json::parse(event->data);
      if (event->type == "job" && json["tag"] == "bad" && json["status"] == "done") return json;
    }
    return nullptr;
  }();
  ASSERT_TRUE(last.is_object());
  EXPECT_EQ(last["error"], "hand-off to the engine failed: engine down");
  EXPECT_TRUE(HasImage("bad")) << "a failed hand-off keeps the image";
  EXPECT_EQ(Status("bad"), "");
  EXPECT_EQ(queue_->Stats().done, 2);
  EXPECT_TRUE(StoredJobs().empty());
}

// Stopping the queue cuts a hand-off short: the job is done, its image kept.
TEST_F(PullQueueTest, StopCancelsAHandOff) {
  hand_off_ = [&](const metadata::ImageRecord&, const std::atomic<bool>& cancel) {
    while (!cancel) std::this_thread::sleep_for(1ms);
    return Result<void>(Cancelled("stopped"));
  };
  StartQueue();
  Submit("1.0");
  ASSERT_TRUE(WaitStatus("1.0", "handoff"));
  queue_->Stop();
  EXPECT_TRUE(HasImage("1.0"));
  EXPECT_TRUE(StoredJobs().empty()) << "nothing resumes at the next start";
}

}  // namespace
}  // namespace wharf::pull
