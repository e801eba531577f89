// The hand-off to LXC: completed LXC downloads are also placed where LXC's "download" template
// keeps its cache, so `lxc-create -t download -- -d DIST -r RELEASE -a ARCH` creates a
// container from them without the network:
//
//   CACHE_DIR/DIST/RELEASE/ARCH/VARIANT/rootfs.tar.xz   the rootfs (a hard link to the blob
//                                                       when on the same file system)
//                                      /config ...      the files of meta.tar.xz, extracted
//                                      /build_id        the build serial
//
// CACHE_DIR is [lxc] cache_dir; the template finds it as
// ${LXC_CACHE_PATH:-/var/cache/lxc}/download. A directory is built under a temporary name (".tmp-")
// and swapped in with one rename, so the template never sees half of one. Thread-safe.
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/content/blob_store.h"
#include "wharf/lxc/archive_scan.h"
#include "wharf/lxc/lxc_image.h"
#include "wharf/metadata/image_store.h"

namespace wharf::lxc {

class LxcCache {
 public:
  // An empty root turns the hand-off off: every call then does nothing.
  explicit LxcCache(std::filesystem::path root);

  bool enabled() const { return !root_.empty(); }

  // Replaces CACHE_DIR/KEY with `rootfs`, the `meta` files and build_id. InvalidArgument for
  // a key with an unsafe part; Internal for file-system errors (naming the path).
  Result<void> Place(const CacheKey& key, const std::filesystem::path& rootfs,
                     const std::vector<MetaFile>& meta, const std::string& build_id);
  // The build_id of CACHE_DIR/KEY, nullopt when there is none.
  std::optional<std::string> BuildId(const CacheKey& key) const;
  // Removes CACHE_DIR/KEY if its build_id is `build_id`; true if it did.
  Result<bool> Remove(const CacheKey& key, const std::string& build_id);

  // After `deleted` images left the store: removes the copies they had placed, then puts back
  // the newest of `remaining` with the same key, if any, from its blobs in `store`.
  // Problems are logged, never returned: the images are already gone.
  void Forget(const std::vector<metadata::ImageRecord>& deleted,
              const std::vector<metadata::ImageRecord>& remaining, const content::BlobStore& store);

 private:
  std::filesystem::path root_;
  std::mutex mu_;
};

}  // namespace wharf::lxc
