// Downloads as the API starts, follows, cancels them, and deletions (which wait for no
// download: an image that is downloading cannot be deleted). Docker names are validated by
// the reference grammar, LXC names looked up in the appcenter catalog, before any I/O.
// Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/depot/depots.h"
#include "wharf/engine/engine.h"
#include "wharf/pull/pull_queue.h"
#include "wharf/service/collector.h"
#include "wharf/service/local_images.h"

namespace wharf::service {

// What the API shows of a job and of the queue (the pull module's own views).
using DownloadView = pull::JobView;
using DownloadStats = pull::QueueStats;

struct DownloadRequest {
  std::string source;  // "dockerhub", "appcenter", "qnap"
  std::string type;    // "docker", "lxc"
  std::string name;
  std::string tag;
  std::string description;
  std::string location;
  std::string icon;
};

class Downloads {
 public:
  // LXC names are looked up in the appcenter catalog of `depots` (null: every LXC name is
  // NotFound). `engine` (may be null) loses the Docker tags deleted here when its
  // remove_on_delete is on.
  Downloads(pull::PullQueue& queue, depot::Depots* depots, Collector& collector,
            engine::Engine* engine = nullptr);

  // Validates and queues (or joins) a download. NotFound for LXC names no catalog knows.
  Result<void> Start(const DownloadRequest& request);
  // Unfinished and recently failed downloads, oldest first.
  std::vector<DownloadView> List() { return queue_.List(); }
  // Cancels a waiting, running or failed download, or an import (tag "import-N", name as
  // listed). NotFound if there is none.
  Result<void> Cancel(const std::string& type, const std::string& name, const std::string& tag);
  // Deletes every tag of a name (tag empty) or one tag. NotFound "Image not found: NAME";
  // Conflict while a download of it is waiting or running (or handing it to the engine).
  // The engine's removal of a tag is best effort: its failure is logged, the delete stands.
  Result<void> Delete(const std::string& type, const std::string& name, const std::string& tag);
  // (type, canonical name) of every download waiting or running.
  NameSet BusyNames() { return queue_.BusyNames(); }
  // Whether the engine of the hand-off holds `image` under its name with the same Id (asked
  // of the engine, within 10 s); nullopt when no engine is configured. Unavailable when the
  // engine cannot be reached.
  Result<std::optional<bool>> InEngine(const metadata::ImageRecord& image);
  DownloadStats Stats() { return queue_.Stats(); }

 private:
  Result<void> StartLxc(const DownloadRequest& request);

  pull::PullQueue& queue_;
  depot::Depots* depots_;
  Collector& collector_;
  engine::Engine* engine_;
};

}  // namespace wharf::service
