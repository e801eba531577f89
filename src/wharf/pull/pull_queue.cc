#include "wharf/pull/pull_queue.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

namespace wharf::pull {

namespace {
constexpr const char* kWaiting = "waiting";
constexpr const char* kDownloading = "downloading";
constexpr const char* kImporting = "importing";
constexpr const char* kHandOff = "handoff";
constexpr const char* kFailed = "failed";
// Error messages carry what registries and servers said, in any encoding: an event is sent
// with U+FFFD in place of bad bytes rather than a throw on a worker thread.
constexpr auto kReplaceInvalidUtf8 = nlohmann::json::error_handler_t::replace;

bool SameImage(const metadata::JobRecord& a, const metadata::JobRecord& b) {
  return a.type == b.type && a.name == b.name && a.tag == b.tag;
}

// A job allocates and frees buffers of 256 KiB to 1 MiB per layer (write blocks, inflate
// output, libcurl's receive buffer) on threads that come and go. glibc serves a block above
// its mmap threshold with mmap and gives it back on free, but its threshold rises to the size
// of each such block freed, and from then on those buffers come from the arenas of the
// threads, which keep them: a wharfd that pulled and deleted a 256 MiB image 60 times grew
// from 16 to 29 MiB. Fixing the threshold (which also stops its rising) keeps them mmapped;
// what the arenas still hold after a job is handed back by malloc_trim.
void KeepJobMemoryReturnable() {
  constexpr int kMmapThreshold = 128 << 10;  // glibc's initial value
  ::mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
}
}  // namespace

void JobProgress::SetLayers(const std::vector<std::pair<std::string, int64_t>>& files) {
  std::lock_guard lock(layers_mu_);
  layers_.clear();
  for (const auto& [digest, size] : files) layers_.push_back({digest, 0, size});
}

void JobProgress::AddBytes(size_t index, int64_t n) {
  bytes_done += n;
  std::lock_guard lock(layers_mu_);
  if (index < layers_.size()) layers_[index].bytes_done += n;
}

std::vector<JobProgress::Layer> JobProgress::Layers() const {
  std::lock_guard lock(layers_mu_);
  return layers_;
}

PullQueue::PullQueue(QueueOptions options, metadata::JobStore& jobs, metadata::ImageStore& images,
                     ImageChanges& changes, ChangeFn on_change, EventBus* events)
    : options_(options),
      job_store_(jobs),
      image_store_(images),
      changes_(changes),
      on_change_(std::move(on_change)),
      events_(events) {}

PullQueue::~PullQueue() { Stop(); }

void PullQueue::AddFetcher(const std::string& type, Fetcher* fetcher) { fetchers_[type] = fetcher; }

void PullQueue::SetHandOff(const std::string& type, HandOffFn hand_off) {
  hand_offs_[type] = std::move(hand_off);
}

Result<void> PullQueue::Start() {
  WHARF_ASSIGN_OR_RETURN(auto jobs, job_store_.List());
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
    for (auto& record : jobs) {
      auto job = std::make_shared<Job>();
      job->record = record;
      if (record.state != kFailed) {
        job->record.state = kWaiting;
        waiting_.push_back(record.id);
        spdlog::info("resuming download of {}:{}", record.display_name, record.tag);
      }
      jobs_[record.id] = job;
    }
  }
  KeepJobMemoryReturnable();
  for (int i = 0; i < options_.max_concurrent; ++i) workers_.emplace_back([this] { Work(); });
  if (events_ != nullptr) ticker_ = std::thread([this] { Tick(); });
  return {};
}

void PullQueue::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [id, job] : jobs_) job->progress.cancel = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  if (ticker_.joinable()) ticker_.join();
}

void PullQueue::PublishJob(Job& job, const std::string& status) {
  if (events_ == nullptr) return;
  const auto& r = job.record;
  int64_t done = job.progress.bytes_done.load();
  int64_t total = job.progress.bytes_total.load();
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : job.progress.Layers()) {
    layers.push_back(
        {{"digest", l.digest}, {"bytes_done", l.bytes_done}, {"bytes_total", l.bytes_total}});
  }
  nlohmann::json percent = nullptr;
  if (status == "done") {
    percent = 100;
  } else if (total > 0) {
    percent = std::clamp<int64_t>(done * 100 / total, 0, 100);
  }
  job.published_bytes = done;
  events_->Publish("job", nlohmann::json{{"type", r.type},
                                         {"name", r.display_name},
                                         {"tag", r.tag},
                                         {"status", status},
                                         {"bytes_done", done},
                                         {"bytes_total", total},
                                         {"percent", percent},
                                         {"error", r.error},
                                         {"layers", layers}}
                              .dump(-1, ' ', false, kReplaceInvalidUtf8));
}

void PullQueue::PublishAdded(const metadata::ImageRecord& image) {
  if (events_ == nullptr) return;
  events_->Publish("image", nlohmann::json{{"action", "added"},
                                           {"type", image.type},
                                           {"name", image.display_name},
                                           {"tag", image.tag}}
                                .dump(-1, ' ', false, kReplaceInvalidUtf8));
}

JobProgress& PullQueue::Attached::progress() { return job_->progress; }

PullQueue::Attached PullQueue::Attach(const std::string& type, const std::string& name,
                                      const std::string& tag) {
  Attached attached;
  attached.job_ = std::make_shared<Job>();
  auto& r = attached.job_->record;
  r.type = type;
  r.name = r.display_name = name;
  r.tag = tag;
  r.state = kImporting;
  r.created_at = options_.clock->NowSeconds();
  attached.job_->attached = true;
  std::lock_guard lock(mu_);
  r.id = --last_attached_id_;
  jobs_[r.id] = attached.job_;
  PublishJob(*attached.job_, kImporting);
  return attached;
}

void PullQueue::Finish(const Attached& attached, const std::vector<metadata::ImageRecord>& images,
                       const Status* error) {
  const auto& job = attached.job_;
  if (error == nullptr) {
    for (const auto& image : images) HandOff(job, image);
  }
  {
    std::lock_guard lock(mu_);
    auto& r = job->record;
    if (error == nullptr) {
      jobs_.erase(r.id);
      changes_.Count();
      ++stats_.done;
      PublishJob(*job, "done");
      for (const auto& image : images) PublishAdded(image);
    } else if (job->progress.cancel.load()) {
      jobs_.erase(r.id);
      ++stats_.cancelled;
      PublishJob(*job, "cancelled");
    } else {
      r.state = kFailed;
      r.error = error->message;
      r.finished_at = options_.clock->NowSeconds();
      ++stats_.failed;
      PublishJob(*job, kFailed);
    }
  }
  // An import may have replaced tags: collect after it as after a failure.
  if (on_change_) on_change_(error == nullptr, true);
}

void PullQueue::Tick() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(500));
    if (stopping_) break;
    for (auto& [id, job] : jobs_) {
      const auto& state = job->record.state;
      if ((state == kDownloading || state == kImporting) &&
          job->progress.bytes_done.load() != job->published_bytes) {
        PublishJob(*job, state);
      }
    }
  }
}

Result<void> PullQueue::Cancel(const std::string& type, const std::string& name,
                               const std::string& tag) {
  bool collect = false;
  {
    std::lock_guard lock(mu_);
    auto it = std::find_if(jobs_.begin(), jobs_.end(), [&](const auto& entry) {
      const auto& r = entry.second->record;
      return r.type == type && r.name == name && r.tag == tag;
    });
    if (it == jobs_.end()) return NotFound("No download of " + name + ":" + tag);
    auto job = it->second;
    const auto& state = job->record.state;
    if (state == kDownloading || state == kImporting || state == kHandOff) {
      // The worker (or the importer) sees the flag, stops the transfers and removes the job
      // (a job in its hand-off has its image already: it ends "done", its hand-off cancelled).
      job->cancel_requested = true;
      job->progress.cancel = true;
      return {};
    }
    WHARF_RETURN_IF_ERROR(job_store_.Delete(it->first));
    std::erase(waiting_, it->first);
    jobs_.erase(it);
    if (job->record.state == kWaiting) ++stats_.cancelled;
    PublishJob(*job, "cancelled");
    collect = true;
  }
  if (collect && on_change_) on_change_(false, false);
  return {};
}

QueueStats PullQueue::Stats() {
  std::lock_guard lock(mu_);
  QueueStats s = stats_;
  for (const auto& [id, job] : jobs_) {
    if (job->record.state == kDownloading || job->record.state == kImporting) ++s.running;
    if (job->record.state == kWaiting) ++s.waiting;
  }
  return s;
}

Result<void> PullQueue::Submit(metadata::JobRecord record) {
  if (!fetchers_.contains(record.type)) {
    return InvalidArgument("downloads of type " + record.type + " are not supported");
  }
  std::lock_guard lock(mu_);
  for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
    if (!SameImage(it->second->record, record)) continue;
    if (it->second->record.state != kFailed) return {};  // join the running job
    WHARF_RETURN_IF_ERROR(job_store_.Delete(it->first));
    jobs_.erase(it);
    break;
  }
  record.state = kWaiting;
  record.error.clear();
  record.created_at = options_.clock->NowSeconds();
  record.finished_at = 0;
  WHARF_ASSIGN_OR_RETURN(int64_t id, job_store_.Add(record));
  record.id = id;
  auto job = std::make_shared<Job>();
  job->record = std::move(record);
  jobs_[id] = job;
  waiting_.push_back(id);
  PublishJob(*job, kWaiting);
  cv_.notify_all();
  return {};
}

std::vector<JobView> PullQueue::List() {
  std::lock_guard lock(mu_);
  ExpireFailedLocked(options_.clock->NowSeconds());
  std::vector<JobView> out;
  for (const auto& [id, job] : jobs_) {
    const auto& r = job->record;
    out.push_back(JobView{r.type, r.display_name, r.tag, r.state, job->progress.bytes_done.load(),
                          job->progress.bytes_total.load(), r.error});
  }
  return out;
}

bool PullQueue::Busy(const std::string& type, const std::string& name, const std::string& tag) {
  std::lock_guard lock(mu_);
  for (const auto& [id, job] : jobs_) {
    const auto& r = job->record;
    if (r.state != kFailed && r.type == type && r.name == name && (tag.empty() || r.tag == tag)) {
      return true;
    }
  }
  return false;
}

std::set<std::pair<std::string, std::string>> PullQueue::BusyNames() {
  std::lock_guard lock(mu_);
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& [id, job] : jobs_) {
    if (job->record.state != kFailed) out.emplace(job->record.type, job->record.name);
  }
  return out;
}

void PullQueue::ExpireFailedLocked(int64_t now) {
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    const auto& r = it->second->record;
    if (r.state == kFailed && now - r.finished_at >= options_.failed_ttl_s) {
      if (auto s = it->second->attached ? Result<void>{} : job_store_.Delete(it->first); !s) {
        spdlog::warn("cannot forget failed job {}: {}", it->first, s.error().message);
      }
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
}

void PullQueue::Work() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
      if (stopping_) return;
      int64_t id = waiting_.front();
      waiting_.pop_front();
      auto it = jobs_.find(id);
      if (it == jobs_.end()) continue;
      job = it->second;
      job->record.state = kDownloading;
      PublishJob(*job, kDownloading);
    }
    Run(job);
  }
}

Result<void> PullQueue::FetchAndCommit(const metadata::JobRecord& record, JobProgress& progress,
                                       metadata::ImageRecord& committed, bool& replaced) {
  // Submit refuses unknown types, but Start resumes whatever the database holds (e.g. a job
  // recorded by a build with another fetcher).
  auto it = fetchers_.find(record.type);
  if (it == fetchers_.end() || it->second == nullptr) {
    return InvalidArgument("no fetcher for jobs of type " + record.type);
  }
  CommitFn commit = [&](metadata::ImageRecord& image) -> Result<void> {
    image.type = record.type;
    image.name = record.name;
    image.tag = record.tag;
    image.display_name = record.display_name;
    image.description = record.description;
    image.location = record.location;
    image.icon = record.icon;
    image.created_at = options_.clock->NowSeconds();
    WHARF_ASSIGN_OR_RETURN(replaced, image_store_.PutAndDeleteJob(image, record.id));
    committed = image;
    return {};
  };
  return it->second->Fetch(record, progress, commit);
}

void PullQueue::HandOff(const std::shared_ptr<Job>& job, const metadata::ImageRecord& image) {
  auto it = hand_offs_.find(image.type);
  if (it == hand_offs_.end() || !it->second) return;
  {
    std::lock_guard lock(mu_);
    job->record.state = kHandOff;
    changes_.Count();  // the image is listed from now on, while the job still shows
    PublishJob(*job, kHandOff);
  }
  spdlog::info("handing {}:{} to the engine", image.display_name, image.tag);
  auto started = std::chrono::steady_clock::now();
  auto handed = it->second(image, job->progress.cancel);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (handed) {
    spdlog::info("{}:{} handed to the engine in {:.1f} s", image.display_name, image.tag, seconds);
    return;
  }
  spdlog::warn("hand-off of {}:{} to the engine failed (the image stays in wharf): {}",
               image.display_name, image.tag, handed.error().message);
  std::lock_guard lock(mu_);
  job->record.error = "hand-off to the engine failed: " + handed.error().message;
}

void PullQueue::Run(const std::shared_ptr<Job>& job) {
  metadata::JobRecord record;
  {
    std::lock_guard lock(mu_);
    record = job->record;
  }
  // "downloading" is not recorded: Start resumes every unfinished job alike, so the database
  // tells only unfinished from failed, and a commit here would cost each job one more fsync.
  spdlog::info("download of {}:{} started", record.display_name, record.tag);
  auto started = std::chrono::steady_clock::now();
  metadata::ImageRecord image;
  bool replaced = false;
  auto result = FetchAndCommit(record, job->progress, image, replaced);
  if (result) HandOff(job, image);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  bool committed = result.has_value();
  bool record_failure_again = false;
  {
    std::lock_guard lock(mu_);
    if (committed) {
      jobs_.erase(record.id);
      changes_.Count();
      ++stats_.done;
      stats_.bytes_pulled += std::max<int64_t>(0, job->progress.bytes_total.load());
      stats_.job_seconds_sum += seconds;
      PublishJob(*job, "done");
      PublishAdded(image);
      spdlog::info("download of {}:{} done in {:.1f} s", record.display_name, record.tag, seconds);
    } else if (job->cancel_requested) {
      if (auto s = job_store_.Delete(record.id); !s) {
        spdlog::warn("cannot forget cancelled job: {}", s.error().message);
      }
      jobs_.erase(record.id);
      ++stats_.cancelled;
      PublishJob(*job, "cancelled");
      spdlog::info("download of {}:{} cancelled", record.display_name, record.tag);
    } else if (stopping_ && job->progress.cancel) {
      // Interrupted by shutdown: stays recorded as unfinished and resumes on the next start.
      job->record.state = kWaiting;
      return;
    } else {
      job->record.state = kFailed;
      job->record.error = result.error().message;
      job->record.finished_at = options_.clock->NowSeconds();
      ++stats_.failed;
      PublishJob(*job, kFailed);
      spdlog::warn("download of {}:{} failed: {}", record.display_name, record.tag,
                   result.error().message);
      if (auto s = job_store_.Update(job->record); !s) {
        // A full disk is often full of this job's own partial blobs, which the garbage
        // collection below removes: try again after it. Unrecorded, the job would stay
        // "downloading" in the database and start again by itself at the next start.
        spdlog::info("cannot record failed job yet: {}", s.error().message);
        record_failure_again = true;
      }
    }
  }
  if (on_change_) on_change_(committed, replaced);
  ::malloc_trim(0);  // what the job's threads freed into their arenas goes back too
  if (record_failure_again) {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(record.id);
    // Unless it was resubmitted or expired meanwhile.
    if (it != jobs_.end() && it->second == job && job->record.state == kFailed) {
      if (auto s = job_store_.Update(job->record); !s) {
        spdlog::warn("cannot record failed job: {}", s.error().message);
      }
    }
  }
}

}  // namespace wharf::pull
