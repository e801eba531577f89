// Background download jobs: a queue in SQLite, at most max_concurrent running at a time,
// duplicate requests joined, progress in bytes, failed jobs kept visible for failed_ttl_s,
// and unfinished jobs resumed after a restart.
//
// The queue does not know how an image is fetched: a Fetcher per image type ("docker",
// "lxc") does that and calls `commit` once every blob is verified in the content store. The
// queue then records the image and removes the job, in one transaction. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "wharf/base/clock.h"
#include "wharf/base/status.h"
#include "wharf/metadata/image_store.h"
#include "wharf/metadata/job_store.h"
#include "wharf/pull/event_bus.h"
#include "wharf/pull/image_changes.h"

namespace wharf::pull {

// Live progress of one job, updated by the fetcher from any of its threads.
struct JobProgress {
  std::atomic<int64_t> bytes_done{0};
  std::atomic<int64_t> bytes_total{-1};  // -1 until the fetcher knows the sizes
  std::atomic<bool> cancel{false};       // set on shutdown or cancel; fetchers stop soon

  // Per-file progress (layers, rootfs...): set once the fetcher knows the files, then
  // AddBytes from any thread.
  void SetLayers(const std::vector<std::pair<std::string, int64_t>>& digests_and_sizes);
  // Counts n bytes (negative to take back bytes dropped) of file number `index`, in the file's
  // progress and in bytes_done.
  void AddBytes(size_t index, int64_t n);
  struct Layer {
    std::string digest;
    int64_t bytes_done = 0;
    int64_t bytes_total = 0;
  };
  std::vector<Layer> Layers() const;

 private:
  mutable std::mutex layers_mu_;
  std::vector<Layer> layers_;
};

// Records the image while the fetcher still holds its blob pins.
using CommitFn = std::function<Result<void>(metadata::ImageRecord& image)>;

// The last step of a job after its commit (loading the image into the local container
// engine): it runs on the job's worker with no lock held, while the job shows as "handoff"
// (still busy: its image cannot be deleted meanwhile). `cancel` is set on shutdown or when
// the job is cancelled. An error leaves the committed image as it is: it becomes the job's
// `error` in its last ("done") event, and is logged.
using HandOffFn = std::function<Result<void>(const metadata::ImageRecord& image,
                                             const std::atomic<bool>& cancel)>;

class Fetcher {
 public:
  virtual ~Fetcher() = default;
  // Downloads and verifies everything `job` names, then calls `commit` with the image record
  // (blobs, sizes, digests filled in). Errors fail the job with their message.
  virtual Result<void> Fetch(const metadata::JobRecord& job, JobProgress& progress,
                             const CommitFn& commit) = 0;
};

struct JobView {
  std::string type;
  std::string name;  // display name
  std::string tag;
  std::string status;  // "waiting", "downloading", "importing", "handoff", "failed"
  int64_t bytes_done = 0;
  int64_t bytes_total = -1;
  std::string error;
};

// Totals since start, for /metrics.
struct QueueStats {
  int64_t done = 0;
  int64_t failed = 0;
  int64_t cancelled = 0;
  int64_t bytes_pulled = 0;    // bytes of finished downloads
  double job_seconds_sum = 0;  // durations of finished downloads
  int64_t running = 0;
  int64_t waiting = 0;
};

struct QueueOptions {
  int max_concurrent = 3;      // jobs running at once
  int64_t failed_ttl_s = 600;  // how long a failed job stays listed
  // The time of jobs and images (failed_ttl_s counts on it); owned by the caller, outlives
  // the queue.
  Clock* clock = &Clock::Default();
};

class PullQueue {
  struct Job;

 public:
  // Called after a job ended: committed (an image was recorded; `replaced` when it took the
  // place of one under the same tag, whose blobs may now be unreferenced) or not (failed or
  // cancelled: its blobs and partials may be left). E.g. to refresh the OCI index and collect.
  using ChangeFn = std::function<void(bool committed, bool replaced)>;

  // `jobs` holds the queue's jobs; a commit records its image and removes its job in one
  // transaction (ImageStore::PutAndDeleteJob). `changes` is counted for every commit, under
  // the lock that takes the job off the list.
  // `events` (may be null) receives "job" events on every state change and at most twice a
  // second while a job makes progress, and "image" events when an image is added.
  PullQueue(QueueOptions options, metadata::JobStore& jobs, metadata::ImageStore& images,
            ImageChanges& changes, ChangeFn on_change, EventBus* events = nullptr);
  ~PullQueue();

  // Registers the fetcher of jobs of `type`; call before Start.
  void AddFetcher(const std::string& type, Fetcher* fetcher);
  // Sets the step run after each commit of a job of `type`; call before Start.
  void SetHandOff(const std::string& type, HandOffFn hand_off);
  // Loads unfinished jobs from the store and starts the workers. A resumed job of a type
  // with no fetcher fails ("no fetcher for jobs of type X") like any failed job.
  // Also fixes glibc's mmap threshold for the process (see KeepJobMemoryReturnable).
  Result<void> Start();
  // Stops the workers; running jobs stay recorded and resume on the next Start.
  void Stop();

  // Queues a download of job.type/name/tag, or joins the job already queued or running for
  // it (a failed one is replaced). Returns once the job is recorded.
  Result<void> Submit(metadata::JobRecord job);
  // Cancels the waiting, running or failed job for type/name/tag: it stops, its record goes,
  // and its partial downloads are collected. NotFound if there is no such job.
  Result<void> Cancel(const std::string& type, const std::string& name, const std::string& tag);
  // Unfinished and recently failed jobs, oldest first.
  std::vector<JobView> List();
  // True while a job for type/name (and tag, unless empty) is waiting or running.
  bool Busy(const std::string& type, const std::string& name, const std::string& tag);
  // (type, name) of every job waiting or running.
  std::set<std::pair<std::string, std::string>> BusyNames();
  QueueStats Stats();

  // A job the caller runs itself (the import of an image archive, fed by its upload): listed
  // with status "importing", in the events (its progress published like a download's) and
  // cancelled like one (Cancel sets progress().cancel; the caller stops and ends it). It is
  // never recorded in the job store: an upload cannot resume after a restart. Copyable handle.
  class Attached {
   public:
    JobProgress& progress();

   private:
    friend class PullQueue;
    std::shared_ptr<Job> job_;
  };
  // Lists a new attached job; `tag` tells it apart from others of the same name.
  Attached Attach(const std::string& type, const std::string& name, const std::string& tag);
  // Ends an attached job, once: with `error` null, its images (recorded by the caller) are
  // handed to the engine, as a download's are, announced ("image" events) and the job leaves
  // the list ("done"); otherwise it ends "cancelled" when its cancel was asked, or "failed",
  // listed with the error for failed_ttl_s. Then the queue's change callback runs.
  void Finish(const Attached& job, const std::vector<metadata::ImageRecord>& images,
              const Status* error);

 private:
  struct Job {
    metadata::JobRecord record;
    JobProgress progress;
    bool cancel_requested = false;
    int64_t published_bytes = -1;  // bytes_done in the last progress event
    bool attached = false;         // run by the caller (Attach), not by a worker
  };
  void Work();
  void Tick();
  void PublishJob(Job& job, const std::string& status);
  void PublishAdded(const metadata::ImageRecord& image);
  void Run(const std::shared_ptr<Job>& job);
  void ExpireFailedLocked(int64_t now);
  // Runs the job's fetcher, whose commit records the image and removes the job; an error
  // when the job's type has no fetcher.
  // `committed` receives the image as recorded, `replaced` whether it replaced a record.
  Result<void> FetchAndCommit(const metadata::JobRecord& record, JobProgress& progress,
                              metadata::ImageRecord& committed, bool& replaced);
  // Runs the hand-off of the committed image's type, if any; its error goes to the job.
  void HandOff(const std::shared_ptr<Job>& job, const metadata::ImageRecord& image);

  QueueOptions options_;
  metadata::JobStore& job_store_;
  metadata::ImageStore& image_store_;
  ImageChanges& changes_;
  ChangeFn on_change_;
  std::map<std::string, Fetcher*> fetchers_;
  std::map<std::string, HandOffFn> hand_offs_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<int64_t, std::shared_ptr<Job>> jobs_;  // by id: waiting, running, failed
  std::deque<int64_t> waiting_;
  std::vector<std::thread> workers_;
  std::thread ticker_;
  int64_t last_attached_id_ = 0;  // attached jobs have ids below 0, never in the job store
  EventBus* events_;
  QueueStats stats_;
};

}  // namespace wharf::pull
