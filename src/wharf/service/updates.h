// Update checks: is a local image stale upstream? For a Docker tag, a check HEADs the tag's
// manifest (Docker Hub counts a manifest GET as a pull, a HEAD not) and compares the digest
// with what the tag resolved to when it was downloaded (the index digest of a multi-platform
// tag). When they differ and the remote is an index, the index is fetched once and its entry
// for this host's platform compared with the local manifest: a tag that moved only for another
// platform is not flagged. An LXC image's `latest` is stale when its image server's index (read
// as a download of latest reads it) has a newer build than the stored one; an LXC tag that is
// a build serial names one build and is not checked. What a check found is recorded
// (UpdateStore) against what the local image is (its repo digest, or its build serial), so a
// flag ends by itself, in the same transaction, when the tag is downloaded again or deleted.
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
#include "wharf/lxc/lxc_fetcher.h"
#include "wharf/lxc/source_resolver.h"
#include "wharf/metadata/image_store.h"
#include "wharf/metadata/update_store.h"
#include "wharf/oci/image.h"
#include "wharf/pull/event_bus.h"
#include "wharf/registry/client.h"
#include "wharf/registry/http_getter.h"
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

// Where the LXC images' newest builds are read: the appcenter catalog as it is now, and the
// image servers its entries name, through `web` (which must outlive the Updates). Without
// `web`, LXC images are neither checked nor listed.
struct LxcIndex {
  lxc::CatalogSource catalog;
  registry::HttpGetter* web = nullptr;
  lxc::ResolverOptions resolver;
};

// What the API shows of one local tag's update state.
struct UpdateView {
  std::string type;  // "docker" or "lxc"
  std::string name;  // display name
  std::string tag;
  bool update_available = false;
  std::string local_digest;   // what the tag resolved to when downloaded; LXC: the build serial
  std::string remote_digest;  // what it resolves to upstream ("" before a check); LXC: serial
  int64_t checked_at = 0;     // 0: never checked
  std::string error;          // the last check's error
};

class Updates {
 public:
  Updates(UpdatesOptions options, registry::Client& client, LocalImages& local,
          metadata::UpdateStore& store, pull::EventBus* events, LxcIndex lxc = {});
  ~Updates();

  // Starts the background checks (when check_interval_s > 0).
  void Start();
  void Stop();

  // Every local Docker tag and LXC `latest`, by name and tag, with its last check.
  Result<std::vector<UpdateView>> List();
  // Checks every image List() shows now (`name` empty), or the one of type `type` ("" =
  // docker; tag "" = latest): NotFound "Image not found: NAME:TAG" when it is not stored;
  // InvalidArgument for a bad name or type, an LXC tag other than latest, or an LXC image when
  // LXC images are not checked. Answers List() when done. A check that fails keeps the tag's
  // last flag and records the error. One run at a time: a second waits for the first. An LXC
  // check is not cut by `cancelled`: its index requests end by their stall timeout.
  Result<std::vector<UpdateView>> Check(const std::string& type, const std::string& name,
                                        const std::string& tag,
                                        const std::function<bool()>& cancelled = {});
  // (type, canonical name, tag) of the local tags with an update available now.
  TagSet Available();

 private:
  struct Run;
  struct Remote;
  // Whether List() shows the image, and so the checks cover it.
  bool Checked(const metadata::ImageRecord& image) const;
  // The images a Check covers.
  Result<std::vector<metadata::ImageRecord>> Chosen(const std::string& type,
                                                    const std::string& name,
                                                    const std::string& tag);
  // The check of one image; its record, as stored.
  metadata::UpdateRecord CheckImage(const metadata::ImageRecord& image, Run& run,
                                    const std::function<bool()>& cancelled);
  // What the image's tag names upstream. `judged`: the last check's record when it was made
  // for what the image is now, else null.
  Result<Remote> AskRegistry(const metadata::ImageRecord& image,
                             const metadata::UpdateRecord* judged, Run& run,
                             const std::function<bool()>& cancelled);
  Result<Remote> AskLxcServer(const metadata::ImageRecord& image);
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
  lxc::CatalogSource lxc_catalog_;
  std::optional<lxc::SourceResolver> lxc_resolver_;  // none: LXC images are not checked

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
// Whether LXC build `remote` is newer than the local build `local`: later in byte-wise order
// when both are build serials (a date first), else just another one (the "sha256-" names of
// "url" sources).
bool NewerBuild(const std::string& local, const std::string& remote);

}  // namespace wharf::service
