// Fetches an LXC image into the content store for the download queue (type "lxc"): resolve
// the catalog entry's source for the job's tag → pin the files' digests → stream meta.tar.xz,
// then rootfs.tar.xz (or .tar.zst), into resumable ingests (sha256 checked; a download is cut
// at the size the index gives; the files of a server allowed without SHA256SUMS go into
// uploads whose digest is computed) → read meta.tar.xz (it must hold "config") and scan the
// rootfs (a broken archive, an unsafe entry, a special file or a limit passed fails the job;
// its unpacked size becomes the image's size) → place it in the LXC cache when one is
// configured → record the image.
//
// The record: type "lxc", name = the catalog name, tag as requested ("latest" or a build
// serial), architecture, size = unpacked bytes, blobs = the files, and LxcImageInfo (serial,
// source, files, cache key) as `extra`. Thread-safe: one LxcFetcher serves all jobs.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "wharf/content/blob_store.h"
#include "wharf/content/unpack_limits.h"
#include "wharf/depot/catalog.h"
#include "wharf/lxc/archive_scan.h"
#include "wharf/lxc/lxc_cache.h"
#include "wharf/lxc/source_resolver.h"
#include "wharf/pull/blob_pins.h"
#include "wharf/pull/pull_queue.h"
#include "wharf/registry/http_getter.h"

namespace wharf::lxc {

struct LxcFetcherOptions {
  int request_tries = 3;     // tries per HTTP request while it fails transiently (HttpGetter)
  int stall_timeout_s = 30;  // a transfer with no byte for this long fails
  int64_t max_rootfs_bytes = int64_t{16} << 30;  // cap when the index gives no size
  int64_t max_meta_bytes = 64 << 20;
  content::UnpackLimits unpack;      // the rootfs as it is scanned ([downloads] max_unpack_*)
  bool allow_special_files = false;  // [lxc] allow_special_files (archive_scan.h)
  bool require_sha256sums = true;    // [lxc] require_sha256sums (source_resolver.h)
};

// The appcenter catalog as it is now (it may be refreshed between jobs); may return null.
using CatalogSource = std::function<std::shared_ptr<const depot::Catalog>()>;

class LxcFetcher : public pull::Fetcher {
 public:
  LxcFetcher(LxcFetcherOptions options, content::BlobStore& store, registry::HttpGetter& web,
             pull::BlobPins& pins, LxcCache& cache, CatalogSource catalog);

  Result<void> Fetch(const metadata::JobRecord& job, pull::JobProgress& progress,
                     const pull::CommitFn& commit) override;

 private:
  // Streams one file into the store (resuming a partial one), counting progress in the
  // job's total and in its file number `index`.
  Result<void> FetchFile(const ResolvedFile& file, const Digest& digest, int64_t cap,
                         pull::JobProgress& progress, size_t index);
  // A file the index gives no sha256 for (a server without SHA256SUMS, allowed): streamed into
  // an upload whose digest is computed, and added to `lease` before it is in the store.
  Result<Digest> FetchUnverified(const ResolvedFile& file, int64_t cap, pull::JobProgress& progress,
                                 size_t index, pull::BlobPins::Lease& lease);
  // Either of the two; the file's digest.
  Result<Digest> FetchAny(const ResolvedFile& file, int64_t cap, pull::JobProgress& progress,
                          size_t index, pull::BlobPins::Lease& lease);
  // Places the image in the LXC cache when configured and commits its record.
  Result<void> Record(const metadata::JobRecord& job, const ResolvedImage& resolved,
                      const RootfsSummary& summary, const Digest& rootfs_digest,
                      const std::optional<Digest>& meta_digest,
                      const std::vector<MetaFile>& meta_files, const pull::CommitFn& commit);

  LxcFetcherOptions options_;
  content::BlobStore& store_;
  registry::HttpGetter& web_;
  pull::BlobPins& pins_;
  LxcCache& cache_;
  CatalogSource catalog_;
  SourceResolver resolver_;
};

}  // namespace wharf::lxc
