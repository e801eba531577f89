// A docker-archive (the tar that `docker save` writes and `docker load` / `podman load` read)
// of images in the blob store, produced piece by piece as a reader pulls it: nothing of it is
// built in memory or on disk besides its small headers and manifest.json.
//
//   manifest.json          [{"Config": "blobs/sha256/<hex>", "RepoTags": ["ubuntu:latest"],
//                            "Layers": ["blobs/sha256/<hex>", ...]}]
//   blobs/, blobs/sha256/  directories
//   blobs/sha256/<hex>     each config and layer once, as stored (a gzip or zstd layer stays
//                          compressed: both engines detect and decompress it on load)
//
// No legacy `repositories` file: engines read the tags from manifest.json. Blob names are
// their digests, so images that share layers carry them once.
//
// Ownership and threads: Open() opens every blob it needs, so the archive stays whole (and
// its size() true) even when the blobs are deleted from the store while it is read. One
// DockerArchive is read by one thread at a time; distinct ones are independent.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wharf/base/digest.h"
#include "wharf/base/status.h"
#include "wharf/base/unique_fd.h"
#include "wharf/content/blob_store.h"

namespace wharf::archive {

struct ArchiveImage {
  // Names the engine gives the image ("ubuntu:latest", "lgsd/diamond:latest",
  // "ghcr.io/x/y:t"); none leaves it untagged there.
  std::vector<std::string> repo_tags;
  Digest config;
  std::vector<Digest> layers;  // base layer first, as the manifest lists them
};

// The config and layers of the image manifest `manifest` in `store`. NotFound when the
// manifest is not there; InvalidArgument when it is not an image manifest.
Result<ArchiveImage> ImageOfManifest(const content::BlobStore& store, const Digest& manifest,
                                     std::vector<std::string> repo_tags);

class DockerArchive {
 public:
  // The archive of `images` (at least one). NotFound when a blob is missing from the store;
  // the error of open(2) otherwise.
  static Result<std::unique_ptr<DockerArchive>> Open(const content::BlobStore& store,
                                                     const std::vector<ArchiveImage>& images);
  ~DockerArchive();
  DockerArchive(const DockerArchive&) = delete;
  DockerArchive& operator=(const DockerArchive&) = delete;

  // Every byte Read() will give, known before the first (for a Content-Length).
  int64_t size() const { return size_; }
  // Bytes already read.
  int64_t offset() const { return offset_; }
  // Copies the next bytes of the archive, at most n, into buf: 0 only at the end (or when n
  // is 0). DataLoss when a blob file turns out shorter than it was at Open (it was changed
  // in place); the error of pread(2) otherwise. After an error every call fails again.
  Result<size_t> Read(char* buf, size_t n);

  const std::string& manifest_json() const { return manifest_json_; }

 private:
  // A run of the archive: bytes held here (headers, manifest.json, padding), or the whole
  // content of one open blob (file >= 0).
  struct Piece {
    std::string bytes;
    int file = -1;
    int64_t size = 0;
  };
  DockerArchive() = default;
  void AppendBytes(std::string_view bytes);
  Result<void> AppendEntry(const std::string& name, int64_t size, bool directory);
  Result<void> AppendBlob(const content::BlobStore& store, const Digest& digest);
  Result<size_t> ReadFile(const Piece& piece, char* buf, size_t n);

  std::vector<Piece> pieces_;
  std::vector<UniqueFd> files_;
  std::vector<Digest> names_;  // the digest of files_[i]
  std::string manifest_json_;
  int64_t size_ = 0;
  int64_t offset_ = 0;
  size_t piece_ = 0;          // the piece being read
  int64_t piece_offset_ = 0;  // bytes of it already read
  std::optional<Status> failed_;
};

// "blobs/sha256/<hex>": where a blob lies in the archive.
std::string ArchivePath(const Digest& digest);

}  // namespace wharf::archive
