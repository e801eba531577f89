// An image archive tar (docker or oci format, see layout.h) of images in the blob store,
// produced as a reader pulls it: nothing of it is built in memory or on disk besides its tar
// headers and metadata files. Two ways to take it: Read() copies it piece by piece (the
// engine hand-off uploads it so), Parts() describes it as runs of memory and ranges of open
// files, for a writer that sends files with sendfile(2).
//
//   oci-layout, index.json  (oci only)
//   manifest.json
//   blobs/, blobs/sha256/   directories
//   blobs/sha256/<hex>      each blob once
//
// Ownership and threads: Open() opens every blob it needs, so the archive stays whole (and
// its size() true) even when the blobs are deleted from the store while it is read. Parts()
// and its file descriptors stay valid while the archive lives. One reader of Read() at a
// time; Parts() may be used from any thread (pread-like: no file position is moved).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/archive/layout.h"
#include "wharf/base/digest.h"
#include "wharf/base/status.h"
#include "wharf/base/unique_fd.h"
#include "wharf/content/blob_store.h"

namespace wharf::archive {

class ImageArchive {
 public:
  // The archive of `images` (at least one, else InvalidArgument) in `format`. NotFound when
  // a blob is missing from the store; the error of open(2) otherwise.
  static Result<std::unique_ptr<ImageArchive>> Open(const content::BlobStore& store,
                                                    const std::vector<ArchiveImage>& images,
                                                    ArchiveFormat format);
  ~ImageArchive();
  ImageArchive(const ImageArchive&) = delete;
  ImageArchive& operator=(const ImageArchive&) = delete;

  // Every byte of the archive, known before the first (for a Content-Length).
  int64_t size() const { return size_; }
  // Bytes Read() already gave.
  int64_t offset() const { return offset_; }
  // Copies the next bytes of the archive, at most n, into buf: 0 only at the end (or when n
  // is 0). DataLoss when a blob file turns out shorter than it was at Open (it was changed
  // in place); the error of pread(2) otherwise. After an error every call fails again.
  Result<size_t> Read(char* buf, size_t n);

  // A run of the archive: `bytes` held by the archive (fd < 0), or `length` bytes of the
  // open file `fd` from `offset`.
  struct Part {
    std::string_view bytes;
    int fd = -1;
    int64_t offset = 0;
    int64_t length = 0;
  };
  // The whole archive, in order; the lengths add up to size().
  std::vector<Part> Parts() const;

 private:
  // A run of the archive: bytes held here (headers, metadata, padding), or the whole
  // content of one open blob (file >= 0).
  struct Piece {
    std::string bytes;
    int file = -1;
    int64_t size = 0;
  };
  ImageArchive() = default;
  void AppendBytes(std::string_view bytes);
  Result<void> AppendEntry(const std::string& name, int64_t size, bool directory);
  Result<void> AppendFile(const ArchiveFile& file);
  Result<void> AppendBlob(const content::BlobStore& store, const Digest& digest);
  Result<size_t> ReadFile(const Piece& piece, char* buf, size_t n);

  std::vector<Piece> pieces_;
  std::vector<UniqueFd> files_;
  std::vector<Digest> names_;  // the digest of files_[i]
  int64_t size_ = 0;
  int64_t offset_ = 0;
  size_t piece_ = 0;          // the piece being read
  int64_t piece_offset_ = 0;  // bytes of it already read
  std::optional<Status> failed_;
};

}  // namespace wharf::archive
