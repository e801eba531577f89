#include "wharf/pull/pull_queue.h"

#include <spdlog/spdlog.h>

#include "wharf/base/file_util.h"

namespace wharf::pull {

namespace {
constexpr const char* kWaiting = "waiting";
constexpr const char* kDownloading = "downloading";
constexpr const char* kFailed = "failed";

bool SameImage(const metadata::JobRecord& a, const metadata::JobRecord& b) {
  return a.type == b.type && a.name == b.name && a.tag == b.tag;
}
}  // namespace

PullQueue::PullQueue(QueueOptions options, metadata::MetadataStore& metadata, ChangeFn on_change)
    : options_(options), metadata_(metadata), on_change_(std::move(on_change)) {}

PullQueue::~PullQueue() { Stop(); }

void PullQueue::AddFetcher(const std::string& type, Fetcher* fetcher) {
  fetchers_[type] = fetcher;
}

Result<void> PullQueue::Start() {
  auto jobs = metadata_.ListJobs();
  if (!jobs) return Error(jobs.error());
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
    for (auto& record : *jobs) {
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
  for (int i = 0; i < options_.max_concurrent; ++i) workers_.emplace_back([this] { Work(); });
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
}

Result<void> PullQueue::Submit(metadata::JobRecord record) {
  if (!fetchers_.contains(record.type)) {
    return InvalidArgument("downloads of type " + record.type + " are not supported");
  }
  std::lock_guard lock(mu_);
  for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
    if (!SameImage(it->second->record, record)) continue;
    if (it->second->record.state != kFailed) return {};  // join the running job
    WHARF_RETURN_IF_ERROR(metadata_.DeleteJob(it->first));
    jobs_.erase(it);
    break;
  }
  record.state = kWaiting;
  record.error.clear();
  record.created_at = NowSeconds();
  record.finished_at = 0;
  auto id = metadata_.AddJob(record);
  if (!id) return Error(id.error());
  record.id = *id;
  auto job = std::make_shared<Job>();
  job->record = std::move(record);
  jobs_[*id] = job;
  waiting_.push_back(*id);
  cv_.notify_one();
  return {};
}

std::vector<JobView> PullQueue::List() {
  std::lock_guard lock(mu_);
  ExpireFailedLocked(NowSeconds());
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
      if (auto s = metadata_.DeleteJob(it->first); !s) {
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
    }
    Run(job);
  }
}

void PullQueue::Run(const std::shared_ptr<Job>& job) {
  metadata::JobRecord record;
  {
    std::lock_guard lock(mu_);
    record = job->record;
  }
  if (auto s = metadata_.UpdateJob(record); !s) {
    spdlog::warn("cannot record job state: {}", s.error().message);
  }
  spdlog::info("download of {}:{} started", record.display_name, record.tag);
  CommitFn commit = [&](metadata::ImageRecord& image) -> Result<void> {
    image.type = record.type;
    image.name = record.name;
    image.tag = record.tag;
    image.display_name = record.display_name;
    image.description = record.description;
    image.location = record.location;
    image.icon = record.icon;
    image.created_at = NowSeconds();
    WHARF_RETURN_IF_ERROR(metadata_.PutImage(image));
    return metadata_.DeleteJob(record.id);
  };
  auto result = fetchers_.at(record.type)->Fetch(record, job->progress, commit);

  bool committed = result.has_value();
  {
    std::lock_guard lock(mu_);
    if (committed) {
      jobs_.erase(record.id);
      spdlog::info("download of {}:{} done", record.display_name, record.tag);
    } else if (stopping_ && job->progress.cancel) {
      // Interrupted by shutdown: stays recorded as unfinished and resumes on the next start.
      job->record.state = kWaiting;
      return;
    } else {
      job->record.state = kFailed;
      job->record.error = result.error().message;
      job->record.finished_at = NowSeconds();
      spdlog::warn("download of {}:{} failed: {}", record.display_name, record.tag,
                   result.error().message);
      if (auto s = metadata_.UpdateJob(job->record); !s) {
        spdlog::warn("cannot record failed job: {}", s.error().message);
      }
    }
  }
  if (on_change_) on_change_(committed);
}

}  // namespace wharf::pull
