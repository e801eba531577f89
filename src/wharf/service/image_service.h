// The image operations the API and the CLI need, over the content store, the metadata store,
// the download queue and the registry client: list local images, inspect local and remote
// images, list a repository's tags, start downloads, report their status, delete images.
//
// Names arrive as the user wrote them ("ubuntu", "lgsd/diamond", "host:5000/a/b") and are
// validated by the reference grammar before any I/O (InvalidArgument naming the problem).
// After every change the content store's OCI index.json is rewritten, so tools like skopeo
// and umoci can read the store. Deleting collects blobs no image and no running download
// needs. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/content/blob_store.h"
#include "wharf/depot/depots.h"
#include "wharf/lxc/lxc_cache.h"
#include "wharf/metadata/metadata_store.h"
#include "wharf/oci/image.h"
#include "wharf/pull/blob_pins.h"
#include "wharf/pull/pull_queue.h"
#include "wharf/registry/client.h"

namespace wharf::service {

// One name in the local listing, its tags in byte-wise order with their sizes aligned.
struct LocalImage {
  std::string type;  // "docker" or "lxc"
  std::string name;  // display name
  std::string description;
  std::string icon;
  std::vector<std::string> tags;
  std::vector<int64_t> sizes;
  bool downloading = false;  // a download for this name is waiting or running
};

// What is installed and what is downloading, by (type, canonical name), for marking the
// entries of the remote depots.
struct LocalState {
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> installed;  // → tags
  std::set<std::pair<std::string, std::string>> downloading;

  bool Installed(const std::string& type, const std::string& name) const {
    return installed.contains({type, name});
  }
  bool Downloading(const std::string& type, const std::string& name) const {
    return downloading.contains({type, name});
  }
};

struct DownloadRequest {
  std::string source;  // "dockerhub", "appcenter", "qnap"
  std::string type;    // "docker", "lxc"
  std::string name;
  std::string tag;
  std::string description;
  std::string location;
  std::string icon;
};

struct TagList {
  std::vector<std::string> installed;
  std::vector<std::string> tags;
};

class ImageService {
 public:
  ImageService(content::BlobStore& store, metadata::MetadataStore& metadata, pull::PullQueue& queue,
               pull::BlobPins& pins, registry::Client& client, oci::Platform platform);

  // type: "", "docker" or "lxc". filter_text: case-insensitive substring of name or
  // description. Sorted by name. Served from an in-memory copy of the image records, read
  // again only after LocalVersion() moved.
  Result<std::vector<LocalImage>> ListLocal(const std::string& type,
                                            const std::string& filter_text);
  // The same, with the entries marked downloading taken from `downloading` (what
  // DownloadingNames() returned), so that a caller caching views knows what they show.
  Result<std::vector<LocalImage>> ListLocal(
      const std::string& type, const std::string& filter_text,
      const std::set<std::pair<std::string, std::string>>& downloading);
  // Changes whenever the local images may have changed: a download committed (counted by the
  // queue when its job leaves the list, so never later than downloadstatus shows it done), a
  // job failed or an image was deleted. Views of ListLocal may be cached until it moves.
  // Changes made to the metadata store behind this service's back are not seen.
  uint64_t LocalVersion();
  // (type, canonical name) of every download waiting or running.
  std::set<std::pair<std::string, std::string>> DownloadingNames() { return queue_.BusyNames(); }
  Result<LocalState> Snapshot();
  // The canonical name of a Docker name as the API writes it ("ubuntu" →
  // "docker.io/library/ubuntu"); InvalidArgument naming image_name if it is not a name.
  static Result<std::string> CanonicalName(const std::string& name);

  // Docker's image-inspect JSON of a local image; NotFound "Image not found: NAME:TAG".
  Result<nlohmann::json> Inspect(const std::string& name, const std::string& tag);
  // The same shape from the registry (manifest and config only, no layers); Size is the sum
  // of the compressed layers; adds Digest and MediaType.
  //
  // RemoteInspect and Tags poll `cancelled` (unset: never) during every registry request
  // they make (scheme probe, token requests, each manifest, the config, each tag page) and
  // every wait between tries; once it returns true they end within about a second with
  // Cancelled naming what was being fetched ("cancelled while fetching the manifest of
  // NAME:TAG from registry HOST", see registry::Client). A caller gives them a total
  // deadline, or stops them when its own client has gone, this way.
  Result<nlohmann::json> RemoteInspect(const std::string& name, const std::string& tag,
                                       const std::function<bool()>& cancelled = {});
  // Tags of a repository from its registry: "latest" first, then byte-wise order.
  Result<TagList> Tags(const std::string& name, bool official,
                       const std::function<bool()>& cancelled = {});
  // Validates and queues (or joins) a download. NotFound for LXC names no catalog knows.
  Result<void> Download(const DownloadRequest& request);
  std::vector<pull::JobView> DownloadStatus();
  // Deletes every tag of a name (tag empty) or one tag. NotFound "Image not found: NAME";
  // Conflict while a download of it is waiting or running.
  Result<void> Delete(const std::string& type, const std::string& name, const std::string& tag);
  // Cancels a waiting, running or failed download. NotFound if there is none.
  Result<void> CancelDownload(const std::string& type, const std::string& name,
                              const std::string& tag);
  // Publishes "image removed" events from now on (null = none).
  void SetEvents(pull::EventBus* events) { events_ = events; }
  // LXC downloads look their names up in the appcenter catalog of `depots` (null: every LXC
  // name is NotFound); deleting an LXC image also removes its copy from `cache` (may be null).
  // Set before serving.
  void SetLxc(depot::Depots* depots, lxc::LxcCache* cache) {
    depots_ = depots;
    lxc_cache_ = cache;
  }
  pull::QueueStats DownloadStats() { return queue_.Stats(); }
  // Bytes of every complete blob in the store.
  int64_t StoreBytes();

  // Called by the queue after a job ends.
  void OnJobEnded(bool committed);
  // Rewrites the OCI index.json from the metadata.
  Result<void> RefreshLayoutIndex();
  // Deletes blobs and partial downloads that no image and no running job needs.
  void CollectGarbage();

 private:
  Result<void> DownloadLxc(const DownloadRequest& request);
  // Every image record, from memory unless LocalVersion() moved since the last read.
  using Records = std::shared_ptr<const std::vector<metadata::ImageRecord>>;
  Result<Records> LocalRecords();

  content::BlobStore& store_;
  metadata::MetadataStore& metadata_;
  pull::PullQueue& queue_;
  pull::BlobPins& pins_;
  registry::Client& client_;
  oci::Platform platform_;
  pull::EventBus* events_ = nullptr;
  depot::Depots* depots_ = nullptr;
  lxc::LxcCache* lxc_cache_ = nullptr;
  std::mutex index_mu_;
  std::atomic<uint64_t> local_changes_{0};  // deletions and ended jobs, see LocalVersion()
  std::mutex records_mu_;
  Records records_;  // null until first read
  uint64_t records_version_ = 0;
};

}  // namespace wharf::service
