// Keeps the store in step with the metadata: removes images (their records, their copy in
// the LXC cache, then every blob no image and no running download needs), rewrites the OCI
// index.json after each change so tools like skopeo and umoci read the store, and does both
// after every download that ends. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/content/blob_store.h"
#include "wharf/lxc/lxc_cache.h"
#include "wharf/metadata/image_store.h"
#include "wharf/pull/blob_pins.h"
#include "wharf/pull/event_bus.h"
#include "wharf/pull/image_changes.h"
#include "wharf/service/local_images.h"

namespace wharf::service {

class Collector {
 public:
  // `events` (may be null) gets an "image removed" event for every tag removed; `lxc_cache`
  // (may be null) loses the copies of removed LXC images.
  Collector(content::BlobStore& store, metadata::ImageStore& images, pull::BlobPins& pins,
            LocalImages& local, pull::ImageChanges& changes, pull::EventBus* events,
            lxc::LxcCache* lxc_cache);

  // Removes the images of type and canonical name (every tag when `tag` is empty), then
  // collects and rewrites index.json; returns the records removed. NotFound "Image not
  // found: SHOWN" if there is none. The caller checks that no download of them runs.
  Result<std::vector<metadata::ImageRecord>> Remove(const std::string& type,
                                                    const std::string& name, const std::string& tag,
                                                    const std::string& shown);
  // After a download ended (the queue's callback): index.json if it committed, and the blobs
  // it or an image it replaced left. A commit that replaced nothing is not followed by a
  // collection (its blobs were pinned until its image named them), except the first after
  // construction, which finds what a kill before a collection left.
  void OnJobEnded(bool committed, bool replaced);
  // Rewrites the OCI index.json from the metadata, unless a rewrite that started after the
  // caller's change (counted in `changes`) already wrote it.
  Result<void> RefreshLayoutIndex();
  // Deletes blobs and partial downloads that no image and no running job needs.
  void CollectGarbage();

 private:
  content::BlobStore& store_;
  metadata::ImageStore& images_;
  pull::BlobPins& pins_;
  LocalImages& local_;
  pull::ImageChanges& changes_;
  pull::EventBus* events_;
  lxc::LxcCache* lxc_cache_;
  std::mutex index_mu_;
  uint64_t index_version_ = 0;  // the `changes` version index.json was last written at
  bool index_written_ = false;
  std::atomic<bool> swept_{false};  // a collection ran since construction
};

}  // namespace wharf::service
