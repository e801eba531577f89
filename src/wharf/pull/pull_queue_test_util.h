// The fixture of the PullQueue tests: a fake fetcher, the queue over a real SQLite database in
// a temporary directory, a fake clock, and bounded waits. Tests only.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "wharf/base/clock.h"
#include "wharf/metadata/database.h"
#include "wharf/pull/pull_queue.h"
#include "wharf/registry/test_registry.h"

namespace wharf::pull {
namespace {

using namespace std::chrono_literals;

// Polls `done` every millisecond for up to 10 s; true if it became true.
bool WaitFor(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// The statuses of tag's "job" events in order, repeats (progress events) left out.
std::vector<std::string> StatusesOf(EventBus::Subscription& sub, const std::string& tag,
                                    const std::string& last) {
  std::vector<std::string> out;
  while (out.empty() || out.back() != last) {
    auto event = sub.Next(10'000);
    if (!event) break;
    if (event->type != "job") continue;
    auto json = nlohmann::json::parse(event->data);
    if (json["tag"] != tag) continue;
    std::string status = json["status"];
    if (out.empty() || out.back() != status) out.push_back(status);
  }
  return out;
}

// Commits an image for every job of a tag at once, unless the tag is held (then it waits for
// Release or the job's cancel flag) or set to fail. Counts calls and jobs running at once.
class FakeFetcher : public Fetcher {
 public:
  Result<void> Fetch(const metadata::JobRecord& job, JobProgress& progress,
                     const CommitFn& commit) override {
    progress.bytes_total = 100;
    {
      std::unique_lock lock(mu_);
      ++calls_[job.tag];
      max_running_ = std::max(max_running_, ++running_);
      while (held_.contains(job.tag) && !progress.cancel) cv_.wait_for(lock, 1ms);
      --running_;
      if (progress.cancel) return Cancelled("download stopped");
      if (auto it = failing_.find(job.tag); it != failing_.end()) return Unavailable(it->second);
    }
    progress.bytes_done = 100;
    metadata::ImageRecord image;
    image.manifest_digest = "sha256:" + std::string(64, 'a');
    image.config_digest = "sha256:" + std::string(64, 'b');
    image.size = 100;
    return commit(image);
  }

  void Hold(const std::string& tag) {
    std::lock_guard lock(mu_);
    held_.insert(tag);
  }
  void Release(const std::string& tag) {
    std::lock_guard lock(mu_);
    held_.erase(tag);
  }
  void Fail(const std::string& tag, const std::string& message = "") {
    std::lock_guard lock(mu_);
    failing_[tag] = message.empty() ? "registry down for " + tag : message;
  }
  int Calls(const std::string& tag) {
    std::lock_guard lock(mu_);
    return calls_[tag];
  }
  int Running() {
    std::lock_guard lock(mu_);
    return running_;
  }
  int MaxRunning() {
    std::lock_guard lock(mu_);
    return max_running_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> held_;
  std::map<std::string, std::string> failing_;  // tag → error message
  std::map<std::string, int> calls_;
  int running_ = 0;
  int max_running_ = 0;
};

class PullQueueTest : public ::testing::Test {
 protected:
  // The database and the stores the queue uses.
  struct Stores {
    explicit Stores(const std::filesystem::path& file)
        : db(std::move(metadata::Database::Open(file).value())), images(*db), jobs(*db) {}
    std::unique_ptr<metadata::Database> db;
    metadata::ImageStore images;
    metadata::JobStore jobs;
  };

  void SetUp() override { OpenStores(); }
  void TearDown() override { queue_.reset(); }

  void OpenStores() {
    metadata_.reset();
    metadata_ = std::make_unique<Stores>(dir_.path() / "wharf.db");
  }

  // A started queue with the fake fetcher for "docker" jobs and the fake clock.
  void StartQueue(QueueOptions options = {}, bool with_events = false) {
    options.clock = &clock_;
    queue_ = std::make_unique<PullQueue>(
        options, metadata_->jobs, metadata_->images, changes_,
        [this](bool committed, bool replaced) {
          (committed ? committed_ : collected_)++;
          replaced_ += replaced ? 1 : 0;
        },
        with_events ? &events_ : nullptr);
    queue_->AddFetcher("docker", &fetcher_);
    if (hand_off_) queue_->SetHandOff("docker", hand_off_);
    auto started = queue_->Start();
    ASSERT_TRUE(started.has_value()) << started.error().ToString();
  }

  static metadata::JobRecord Job(const std::string& tag, const std::string& type = "docker") {
    metadata::JobRecord job;
    job.type = type;
    job.name = "docker.io/team/app";
    job.display_name = "team/app";
    job.tag = tag;
    job.source = "dockerhub";
    return job;
  }
  void Submit(const std::string& tag) {
    auto s = queue_->Submit(Job(tag));
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
  }

  // The listed status of tag's job, or "" when it is not listed.
  std::string Status(const std::string& tag) {
    for (const auto& job : queue_->List()) {
      if (job.tag == tag) return job.status;
    }
    return "";
  }
  bool WaitStatus(const std::string& tag, const std::string& status) {
    return WaitFor([&] { return Status(tag) == status; });
  }
  bool HasImage(const std::string& tag) {
    auto image = metadata_->images.Get("docker", "docker.io/team/app", tag);
    return image.has_value() && image->has_value();
  }
  std::vector<metadata::JobRecord> StoredJobs() {
    auto jobs = metadata_->jobs.List();
    EXPECT_TRUE(jobs.has_value());
    return jobs.value_or(std::vector<metadata::JobRecord>{});
  }

  registry::testing::TempDir dir_;
  std::unique_ptr<Stores> metadata_;
  FakeFetcher fetcher_;
  HandOffFn hand_off_;  // set before StartQueue
  EventBus events_;
  ImageChanges changes_;
  FakeClock clock_;
  std::atomic<int> committed_{0};
  std::atomic<int> collected_{0};
  std::atomic<int> replaced_{0};      // commits that replaced an image of the same tag
  std::unique_ptr<PullQueue> queue_;  // last: stops before what it uses goes
};

}  // namespace
}  // namespace wharf::pull
