// Pull-through ([serve] pull_through): a manifest request for a tag wharf lacks starts (or
// joins) the normal download and is answered once it committed, over a real download queue
// whose fetcher the test holds, fails or lets commit.
#include "wharf/api/pull_through.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "wharf/api/distribution_test_util.h"

namespace wharf::api {
namespace {

// Each job waits while held (until released or cancelled), then fails with `failure` if set,
// else stores the image of seed "NAME:TAG" and commits it.
class PullFetcher : public pull::Fetcher {
 public:
  explicit PullFetcher(service::TestServices& services) : services_(services) {}

  Result<void> Fetch(const metadata::JobRecord& job, pull::JobProgress& progress,
                     const pull::CommitFn& commit) override {
    std::string failure;
    {
      std::unique_lock lock(mu_);
      ++started_;
      cv_.notify_all();
      while (hold_ && !progress.cancel) cv_.wait_for(lock, std::chrono::milliseconds(5));
      failure = failure_;
    }
    if (progress.cancel) return Cancelled("cancelled");
    if (!failure.empty()) return Unavailable(failure);
    metadata::ImageRecord image = service::PutTestImageBlobs(services_, job.name + ":" + job.tag);
    return commit(image);
  }

  void Hold() {
    Set([this] { hold_ = true; });
  }
  void Release() {
    Set([this] { hold_ = false; });
  }
  void FailWith(const std::string& failure) {
    Set([&] { failure_ = failure; });
  }
  // Waits (20 s at most) until `n` jobs have started; false if they did not.
  bool AwaitStarted(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return started_ >= n; });
  }
  int started() {
    std::lock_guard lock(mu_);
    return started_;
  }

 private:
  template <typename F>
  void Set(F change) {
    std::lock_guard lock(mu_);
    change();
    cv_.notify_all();
  }

  service::TestServices& services_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  std::string failure_;
  int started_ = 0;
};

class PullThroughTest : public DistributionTest {
 protected:
  PullThroughTest() {
    s_.queue.AddFetcher("docker", &fetcher_);
    EXPECT_TRUE(s_.queue.Start().has_value());
    pull_through_ = &pull_through_impl_;
    service::PutTestImage(s_, "docker.io/library/busybox", "busybox", "1.36", "bb");
    s_.changes.Count();
  }
  // The queue's workers are done with the fetcher before it goes.
  ~PullThroughTest() override {
    fetcher_.Release();
    s_.queue.Stop();
  }

  // The deferred answer of a manifest GET (a failure if it came at once).
  DeferredAnswer Deferred(const std::string& target) {
    HttpResponse res = Get(target);
    EXPECT_TRUE(res.deferred) << res.status << " " << BodyOf(res);
    EXPECT_EQ(HeaderOf(res, "Docker-Distribution-API-Version"), "registry/2.0");
    return DeferredAnswer(res.deferred);
  }
  // The image a download of name:tag stored: its manifest digest ("" if none).
  std::string StoredDigest(const std::string& repository, const std::string& tag) {
    auto manifest = served_.Manifest(repository, tag);
    return manifest ? manifest->digest : "";
  }

  PullFetcher fetcher_{s_};
  PullThrough pull_through_impl_{served_, s_.downloads, s_.events, std::chrono::seconds(600)};
};

TEST_F(PullThroughTest, ATagWharfLacksIsAnsweredOnceItsDownloadCommitted) {
  fetcher_.Hold();
  HttpResponse res = Get("/v2/library/alpine/manifests/3.19");
  ASSERT_TRUE(res.deferred);
  EXPECT_EQ(res.deferred->Wait(), std::chrono::seconds(600));
  DeferredAnswer answer(res.deferred);
  ASSERT_TRUE(fetcher_.AwaitStarted(1));
  EXPECT_FALSE(answer.Poll());  // downloading: no answer yet, not even an error
  auto jobs = s_.downloads.List();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].name, "alpine");
  EXPECT_EQ(jobs[0].tag, "3.19");

  fetcher_.Release();
  HttpResponse done = answer.Await();
  ASSERT_EQ(done.status, 200) << BodyOf(done);
  const std::string digest = StoredDigest("docker.io/library/alpine", "3.19");
  ASSERT_FALSE(digest.empty());
  EXPECT_EQ(done.content_type, kOciManifest);
  EXPECT_EQ(BodyOf(done), Stored(digest));
  EXPECT_EQ(HeaderOf(done, "Docker-Content-Digest"), digest);
  EXPECT_EQ(HeaderOf(done, "Docker-Distribution-API-Version"), "registry/2.0");
  EXPECT_FALSE(done.deferred);
  EXPECT_GT(answer.wakes(), 0);  // woken by the download's events, not polled on a timer

  // From now on it is a stored image, answered at once, and not downloaded again.
  HttpResponse again = Get("/v2/alpine/manifests/3.19");
  EXPECT_FALSE(again.deferred);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(HeaderOf(again, "Docker-Content-Digest"), digest);
  EXPECT_EQ(fetcher_.started(), 1);
}

TEST_F(PullThroughTest, AnotherTagOfAStoredNameIsPulledThroughToo) {
  HttpResponse done = Deferred("/v2/library/busybox/manifests/musl").Await();
  EXPECT_EQ(done.status, 200) << BodyOf(done);
  EXPECT_EQ(HeaderOf(done, "Docker-Content-Digest"),
            StoredDigest("docker.io/library/busybox", "musl"));
  EXPECT_EQ(served_.Tags("docker.io/library/busybox").value(),
            (std::vector<std::string>{"1.36", "musl"}));
}

TEST_F(PullThroughTest, RequestsForOneTagJoinOneDownload) {
  fetcher_.Hold();
  std::vector<DeferredAnswer> answers;
  for (const std::string& target :
       std::vector<std::string>{"/v2/library/alpine/manifests/3.19", "/v2/alpine/manifests/3.19",
                                "/v2/docker.io/library/alpine/manifests/3.19"}) {
    answers.push_back(Deferred(target));
  }
  ASSERT_TRUE(fetcher_.AwaitStarted(1));
  EXPECT_EQ(s_.downloads.List().size(), 1u);
  fetcher_.Release();
  for (auto& answer : answers) {
    HttpResponse done = answer.Await();
    EXPECT_EQ(done.status, 200) << BodyOf(done);
  }
  EXPECT_EQ(fetcher_.started(), 1);
}

TEST_F(PullThroughTest, AFailedDownloadAnswersManifestUnknownWithItsError) {
  fetcher_.FailWith("registry-1.docker.io: manifest unknown");
  HttpResponse failed = Deferred("/v2/library/alpine/manifests/nope").Await();
  EXPECT_EQ(failed.status, 404);
  EXPECT_EQ(ErrorCode(failed), "MANIFEST_UNKNOWN") << BodyOf(failed);
  EXPECT_NE(ErrorMessage(failed).find("the pull-through download of alpine:nope failed: "),
            std::string::npos)
      << ErrorMessage(failed);
  EXPECT_NE(ErrorMessage(failed).find("registry-1.docker.io: manifest unknown"), std::string::npos)
      << ErrorMessage(failed);
  EXPECT_EQ(StoredDigest("docker.io/library/alpine", "nope"), "");
}

TEST_F(PullThroughTest, AWaitThatEndsFirstAsksTheClientToTryAgain) {
  fetcher_.Hold();
  DeferredAnswer answer = Deferred("/v2/library/alpine/manifests/3.19");
  ASSERT_TRUE(fetcher_.AwaitStarted(1));
  HttpResponse last = answer.Last();  // the wait is over (or the client left)
  EXPECT_EQ(last.status, 404);
  EXPECT_EQ(ErrorCode(last), "MANIFEST_UNKNOWN");
  EXPECT_EQ(ErrorMessage(last), "alpine:3.19 is still downloading; try again");
  EXPECT_EQ(HeaderOf(last, "Docker-Distribution-API-Version"), "registry/2.0");
  EXPECT_EQ(s_.downloads.List().size(), 1u);  // the download goes on
}

TEST_F(PullThroughTest, ADownloadCancelledBeforeItCommitsEndsTheWait) {
  fetcher_.Hold();
  DeferredAnswer answer = Deferred("/v2/library/alpine/manifests/3.19");
  ASSERT_TRUE(fetcher_.AwaitStarted(1));
  ASSERT_TRUE(s_.downloads.Cancel("docker", "alpine", "3.19"));
  HttpResponse ended = answer.Await();
  EXPECT_EQ(ended.status, 404);
  EXPECT_EQ(ErrorCode(ended), "MANIFEST_UNKNOWN");
  EXPECT_EQ(ErrorMessage(ended), "the pull-through download of alpine:3.19 ended without it");
}

TEST_F(PullThroughTest, ADigestOrANameThatCannotBeDownloadedIsAnsweredAtOnce) {
  const std::string zeros = "sha256:" + std::string(64, '0');
  HttpResponse by_digest = Get("/v2/library/alpine/manifests/" + zeros);
  EXPECT_FALSE(by_digest.deferred);
  EXPECT_EQ(by_digest.status, 404);
  EXPECT_EQ(ErrorCode(by_digest), "NAME_UNKNOWN");
  HttpResponse stored_name = Get("/v2/library/busybox/manifests/" + zeros);
  EXPECT_FALSE(stored_name.deferred);
  EXPECT_EQ(ErrorCode(stored_name), "MANIFEST_UNKNOWN");
  // A tag the reference grammar refuses: the download's own refusal, at once.
  HttpResponse bad_tag = Get("/v2/library/alpine/manifests/-bad");
  EXPECT_FALSE(bad_tag.deferred);
  EXPECT_EQ(bad_tag.status, 400);
  EXPECT_EQ(ErrorCode(bad_tag), "NAME_INVALID") << BodyOf(bad_tag);
  // Blobs and tag lists are never pulled through.
  EXPECT_EQ(ErrorCode(Get("/v2/library/alpine/blobs/" + zeros)), "NAME_UNKNOWN");
  EXPECT_EQ(ErrorCode(Get("/v2/library/alpine/tags/list")), "NAME_UNKNOWN");
  EXPECT_TRUE(s_.downloads.List().empty());
  EXPECT_EQ(fetcher_.started(), 0);
}

TEST_F(PullThroughTest, WithoutPullThroughATagWharfLacksIsUnknownAtOnce) {
  pull_through_ = nullptr;
  HttpResponse res = Get("/v2/library/alpine/manifests/3.19");
  EXPECT_FALSE(res.deferred);
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(ErrorCode(res), "NAME_UNKNOWN");
  EXPECT_EQ(ErrorCode(Get("/v2/library/busybox/manifests/musl")), "MANIFEST_UNKNOWN");
  EXPECT_TRUE(s_.downloads.List().empty());
}

}  // namespace
}  // namespace wharf::api
