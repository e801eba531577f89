// The images in the store as the API lists and inspects them. Served from an in-memory copy
// of the image records, read again from the metadata store only after `changes` moved (a
// commit, a failed job, a deletion). Changes made to the metadata store behind the counter's
// back are not seen. Names are validated by the reference grammar before any I/O
// (InvalidArgument naming the problem). Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/content/blob_store.h"
#include "wharf/metadata/image_store.h"
#include "wharf/pull/image_changes.h"

namespace wharf::service {

// One name in the local listing, its tags in byte-wise order with their sizes aligned.
struct LocalImage {
  std::string type;  // "docker" or "lxc"
  std::string name;  // display name
  std::string description;
  std::string icon;
  std::vector<std::string> tags;
  std::vector<int64_t> sizes;
  std::vector<bool> updates;     // Docker: an update is available for the tag, aligned with tags
  std::vector<std::string> ids;  // Docker: each tag's config digest ("sha256:..."), aligned
  std::vector<std::string> created;  // Docker: each tag's config `created` (RFC 3339) or ""
  bool downloading = false;          // a download for this name is waiting or running
};

// (type, canonical name) pairs.
using NameSet = std::set<std::pair<std::string, std::string>>;
// (type, canonical name, tag) triples.
using TagSet = std::set<std::tuple<std::string, std::string, std::string>>;

// What is installed and what is downloading, by (type, canonical name), for marking the
// entries of the remote depots.
struct LocalState {
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> installed;  // → tags
  NameSet downloading;

  bool Installed(const std::string& type, const std::string& name) const {
    return installed.contains({type, name});
  }
  bool Downloading(const std::string& type, const std::string& name) const {
    return downloading.contains({type, name});
  }
};

class LocalImages {
 public:
  using Records = std::shared_ptr<const std::vector<metadata::ImageRecord>>;

  LocalImages(content::BlobStore& store, metadata::ImageStore& images,
              const pull::ImageChanges& changes);

  // type: "", "docker" or "lxc". filter_text: case-insensitive substring of name or
  // description. Sorted by name; an entry is marked downloading when `downloading` (what
  // Downloads::BusyNames() gave) holds it, and a tag as having an update when `updates` (what
  // Updates::Available() gave) holds it, so a caller caching views knows what they show.
  // Each Docker tag's config is read for its `created` (a config that cannot be read: "").
  Result<std::vector<LocalImage>> List(const std::string& type, const std::string& filter_text,
                                       const NameSet& downloading, const TagSet& updates = {});
  // Moves whenever the local images may have changed; views of List may be kept until then.
  uint64_t Version() const { return changes_.version(); }
  Result<LocalState> State(NameSet downloading);
  // Docker's image-inspect JSON of a local image; NotFound "Image not found: NAME:TAG".
  Result<nlohmann::json> Inspect(const std::string& name, const std::string& tag);
  // The record of a local Docker image (kept alive by `records`); NotFound as Inspect.
  struct Found {
    std::shared_ptr<const std::vector<metadata::ImageRecord>> records;
    const metadata::ImageRecord* image = nullptr;
  };
  Result<Found> Find(const std::string& name, const std::string& tag);
  // The tags stored for a Docker image of canonical name `name`, "latest" first.
  Result<std::vector<std::string>> Tags(const std::string& name);
  // Every image record, from memory unless Version() moved since the last read.
  Result<Records> All();
  // Bytes of every complete blob in the store.
  int64_t StoreBytes();
  // The blob store the images are in.
  content::BlobStore& store() const { return store_; }

 private:
  content::BlobStore& store_;
  metadata::ImageStore& images_;
  const pull::ImageChanges& changes_;
  std::mutex records_mu_;
  Records records_;  // null until first read
  uint64_t records_version_ = 0;
};

}  // namespace wharf::service
