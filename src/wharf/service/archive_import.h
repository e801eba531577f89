// The import of one image archive as its bytes arrive: `docker save` / `podman save` (docker
// archives, the legacy layout with <id>/layer.tar and the newer one with blobs/sha256/), OCI
// image layouts in a tar (`skopeo copy oci-archive:`, `podman save --format oci-archive`),
// plain or gzip or zstd compressed (detected from the bytes).
//
// Every file of the archive is streamed into the blob store as an Upload (hashed as it comes,
// its diff_id computed when it is compressed), whatever it turns out to be; manifest.json,
// index.json, oci-layout and repositories are kept in memory (at most kMaxArchiveMetadata
// each). The blobs are pinned against garbage collection until the import is destroyed, so
// the caller commits the images before that; whatever no image needs is collected afterwards.
// Memory stays bounded whatever the archive's size.
//
// At Finish() the archive's images are checked and described:
// - OCI (index.json): every blob named blobs/sha256/<hex> must hash to its name; an index
//   entry that is itself an index is resolved to the platform's image manifest (entries with
//   a platform first, then nested indexes without one, as registry::ResolveManifest does, as
//   deep as registry::kMaxIndexDepth); the name comes from "io.containerd.image.name", else
//   from "org.opencontainers.image.ref.name" (a full reference, or just a tag);
// - docker (manifest.json, when there is no index.json): each image's Config and Layers
//   (symlinks and hard links inside the archive followed) must be there, the layers as many
//   as the config's diff_ids and each unpacking to its diff_id. The image gets an OCI image
//   manifest over the layers as the archive carries them (a docker archive's layers are
//   usually uncompressed tars: their digest is then their diff_id, so importing the same
//   archive twice gives the same manifest digest); the names come from RepoTags.
// An image without a name takes `untagged_name` (the API's ?tag=NAME:TAG) when it is set.
//
// Errors (nothing is committed; the caller collects the blobs): InvalidArgument naming the
// problem: not a tar, truncated, compression errors and the decompressed size over
// max_bytes (see StreamDecompressor and TarReader), "the archive has no manifest.json (docker
// save) nor index.json (OCI layout)", malformed JSON, "... is missing from the archive",
// "... does not match its digest", "layer ... unpacks to ... but the config expects ...",
// "... is a symlink that leads out of the archive", "image ... has no name: ...", "the archive
// holds over kMaxArchiveEntries files and links", "index ... in the archive: no image for
// linux/s390x ..." (an index without the platform);
// Cancelled when `cancelled` says so (polled at every Feed); Internal for the disk.
// Not thread-safe; one per upload.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/content/blob_store.h"
#include "wharf/content/unpack_limits.h"
#include "wharf/metadata/image_store.h"
#include "wharf/oci/image.h"
#include "wharf/pull/blob_pins.h"
#include "wharf/reference/reference.h"

namespace wharf::service {

inline constexpr size_t kMaxArchiveMetadata = 4 << 20;
// Files and links an archive may hold (an image archive holds a few per layer): each file is
// a blob written and fsynced, so a tar of millions of empty files is refused early.
inline constexpr size_t kMaxArchiveEntries = 100000;

// One file of the archive, in the store.
struct StagedFile {
  Digest digest;
  int64_t size = 0;
  oci::Compression compression = oci::Compression::kNone;
  Digest diff_id;  // the digest of its uncompressed bytes
  int64_t uncompressed_size = 0;
};

// What the archive holds once read: its files (by normalised path), its links (path → the
// archive path they lead to, "" when they lead out of it) and its metadata files.
struct StagedArchive {
  std::map<std::string, StagedFile> files;
  std::map<std::string, std::string> links;
  std::map<std::string, std::string> metadata;  // "manifest.json", "index.json"...
  std::map<Digest, const StagedFile*> by_digest;
};

struct ArchiveImportOptions {
  uint64_t max_bytes = 64ull << 30;  // of the decompressed archive
  oci::Platform platform;            // chosen from multi-platform indexes
  std::optional<reference::Reference> untagged_name;
  const std::atomic<bool>* cancelled = nullptr;
  content::UnpackLimits unpack;  // each layer's decompression (its cancel is `cancelled`)
};

class ArchiveImport {
 public:
  ArchiveImport(content::BlobStore& store, pull::BlobPins& pins, ArchiveImportOptions options);
  ~ArchiveImport();
  ArchiveImport(const ArchiveImport&) = delete;
  ArchiveImport& operator=(const ArchiveImport&) = delete;

  // The next bytes of the archive as sent (compressed or not), in any split.
  Result<void> Feed(std::string_view bytes);
  // The archive ended: its images, described for ImageStore::Put (type, names, digests,
  // platform, size and blobs set; created_at and the rest left to the caller), one per name.
  Result<std::vector<metadata::ImageRecord>> Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The images `archive` describes (see above); blobs it writes (the manifests built for docker
// archives) are pinned under `lease`.
Result<std::vector<metadata::ImageRecord>> ArchiveImages(const StagedArchive& archive,
                                                         content::BlobStore& store,
                                                         pull::BlobPins::Lease& lease,
                                                         const ArchiveImportOptions& options);

}  // namespace wharf::service
