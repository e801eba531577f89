// Update checks: is a local Docker tag stale at its registry? A check HEADs the tag's manifest
// (Docker Hub counts a manifest GET as a pull, a HEAD not) and compares the digest with what
// the tag resolved to when it was downloaded (the index digest of a multi-platform tag). When
// they differ and the remote is an index, the index is fetched once and its entry for this
// host's platform compared with the local manifest: a tag that moved only for another platform
// is not flagged. What a check found is recorded (UpdateStore) against the local digest it was
// made for, so a flag ends by itself, in the same transaction, when the tag is downloaded
// again (its digest then differs) or deleted.
//
// Checks run in the background every `check_interval_s` (0: never), counted from the last
// check recorded (so they survive restarts), at most `parallel` at once. The registry
// client's retries wait out a 429's Retry-After; a check run stops early, and the next one
// waits an interval, while Docker Hub's RateLimit-Remaining is under `min_rate_remaining`.
// An "update" event goes out whenever a tag's flag changes, and the flags a run turned on go
// to the webhook, if there is one, once the run ends.
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "wharf/base/clock.h"
#include "wharf/base/status.h"
#include "wharf/metadata/image_store.h"
#include "wharf/metadata/update_store.h"
#include "wharf/oci/image.h"
#include "wharf/pull/event_bus.h"
#include "wharf/registry/client.h"
#include "wharf/service/local_images.h"

namespace wharf::service {

class UpdateWebhook;

struct UpdatesOptions {
  int64_t check_interval_s = 21600;  // [updates] check_interval_s; 0 = no background checks
  oci::Platform platform;            // whose manifest of a multi-platform tag counts
  int parallel = 2;                  // checks at once
  int64_t min_rate_remaining = 10;   // stop a run when Docker Hub has fewer pulls left
  Clock* clock = &Clock::Default();
  // Told of the flags each run turned on; null: nobody. It must outlive the Updates.
  UpdateWebhook* webhook = nullptr;
};

// What the API shows of one local tag's update state.
struct UpdateView {
  std::string type;  // "docker"
  std::string name;  // display name
  std::string tag;
  bool update_available = false;
  std::string local_digest;   // what the tag resolved to when downloaded
  std::string remote_digest;  // what it resolves to at its registry ("" before a check)
  int64_t checked_at = 0;     // 0: never checked
  std::string error;          // the last check's error
};

class Updates {
 public:
  Updates(UpdatesOptions options, registry::Client& client, LocalImages& local,
          metadata::UpdateStore& store, pull::EventBus* events);
  ~Updates();

  // Starts the background checks (when check_interval_s > 0).
  void Start();
  void Stop();

  // Every local Docker tag, by name and tag, with its last check.
  Result<std::vector<UpdateView>> List();
  // Checks every local Docker tag now (`name` empty), or one (NotFound "Image not found:
  // NAME:TAG" when it is not stored; InvalidArgument for a bad name or an LXC image), and
  // answers List() when done. A check that fails keeps the tag's last flag and records the
  // error. One run at a time: a second waits for the first.
  Result<std::vector<UpdateView>> Check(const std::string& type, const std::string& name,
                                        const std::string& tag,
                                        const std::function<bool()>& cancelled = {});
  // (type, canonical name, tag) of the local tags with an update available now.
  TagSet Available();

 private:
  struct Run;
  // The check of one image; its record, as stored.
  metadata::UpdateRecord CheckImage(const metadata::ImageRecord& image, Run& run,
                                    const std::function<bool()>& cancelled);
  // `judged`: the last check's record when it was made for what the image is now, else null.
  Result<bool> Differs(const metadata::ImageRecord& image, const reference::Reference& ref,
                       const registry::ManifestHead& head, const metadata::UpdateRecord* judged,
                       const std::function<bool()>& cancelled);
  // Checks and records each image; true when the run stopped early for the rate limit.
  Result<bool> CheckAll(const std::vector<metadata::ImageRecord>& images,
                        const std::function<bool()>& cancelled);
  void Publish(const metadata::ImageRecord& image, const metadata::UpdateRecord& record);
  // When the next background run is due: the oldest check of a local tag plus the interval.
  int64_t NextDue();
  void Loop();

  UpdatesOptions options_;
  registry::Client& client_;
  LocalImages& local_;
  metadata::UpdateStore& store_;
  pull::EventBus* events_;

  // Available(), kept until the local images or a recorded check change.
  std::mutex cache_mu_;
  TagSet available_;
  uint64_t available_version_ = 0;     // LocalImages::Version() it was made for
  uint64_t available_generation_ = 0;  // generation_ it was made for
  bool available_valid_ = false;
  std::atomic<uint64_t> generation_{0};  // moves with every recorded check

  std::mutex run_mu_;  // one run at a time
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread loop_;
};

// The digest a local Docker tag resolved to at its registry: its recorded repo digest (the
// index of a multi-platform tag), else its manifest's.
std::string RepoDigestOf(const metadata::ImageRecord& image);

}  // namespace wharf::service
