// The write path of a blob on its way into the store, shared by Ingest (known digest,
// resumable) and Upload (digest known at the end): bytes are hashed as they are written, in
// one pass with the copy into a 1 MiB write-behind buffer, and a full buffer goes to disk on
// a thread of its own while the next one fills. The file is written with O_DIRECT where the
// filesystem allows it (not tmpfs), which skips the page-cache copy and makes the fsync before
// the rename cheap instead of a flush of the whole blob. What it does not do: name the blob,
// verify it or move it into blobs/ (its owner does, see blob_store.h).
// Not thread-safe; one writer. Destroying it is Close().
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>

#include "wharf/base/digest.h"
#include "wharf/base/status.h"
#include "wharf/base/unique_fd.h"
#include "wharf/content/write_behind.h"

namespace wharf::content {

// The mode of the store's files (blobs, partial files, uploads, index.json).
inline constexpr unsigned kBlobMode = 0644;

// Like ErrnoError naming the operation and the file, but a full disk always reads "no space
// left on device" (strerror capitalises it), the phrase operators and callers look for.
Error IoError(std::string_view op, const std::filesystem::path& path, int err);

class BlobWriter {
 public:
  BlobWriter() = default;
  ~BlobWriter();
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  // Opens `path` for writing at its start, creating it (kBlobMode) and keeping what is there;
  // with `exclusive`, a file already there is an error. Internal naming the path on failure.
  Result<void> Open(const std::filesystem::path& path, bool exclusive);
  // The file is open: false before Open(), after Close() or SyncAndClose(), and after a write
  // failed (the file then holds a valid prefix of what was written).
  bool is_open() const { return static_cast<bool>(fd_); }
  const std::filesystem::path& path() const { return path_; }
  // Bytes hashed so far: the file position once buffers are written.
  int64_t offset() const { return offset_; }
  // The hash of the bytes so far (for a resume, the owner hashes the kept prefix into it).
  Sha256& hash() { return hash_; }
  const Sha256& hash() const { return hash_; }

  // Cuts the file to its first `at` bytes (before any Write) and writes on from there;
  // offset() becomes `at`. The hash is the owner's business (it must hold exactly those
  // bytes). Closes the file on failure.
  Result<void> TruncateTo(int64_t at);
  // Drops everything written (offset 0, hash reset), reopening the file if a failure closed it.
  Result<void> Restart();
  // Appends bytes, hashing them. On a write failure the file is closed (see is_open()).
  Result<void> Write(const void* data, size_t n);
  // Writes out what is buffered and waits for it. Closes the file on failure.
  Result<void> Flush();
  // Flush(), then fsyncs and closes the file. The hash is untouched: hash().Finish() gives
  // the digest.
  Result<void> SyncAndClose();
  // Writes out what is buffered, as far as it goes (a failure leaves a shorter prefix), and
  // closes the file, keeping it: a resumable prefix, which its owner re-hashes, so no fsync.
  void Close();
  // Waits for the write in flight and closes the file without writing what is buffered: for
  // a file about to be removed.
  void Drop();

 private:
  // Writes [data, data+n) at the file position: whole blocks with direct I/O when it is on,
  // the rest through the page cache. Returns 0 or an errno value.
  int WriteBlocks(const char* data, size_t n);
  // Waits for the block in flight, then writes what is buffered. Returns 0 or an errno value.
  int Drain();
  void SetDirect(bool on);

  struct FreeDeleter {
    void operator()(char* p) const;
  };
  using Buffer = std::unique_ptr<char[], FreeDeleter>;
  static Buffer AlignedBuffer();

  std::filesystem::path path_;
  UniqueFd fd_;
  int64_t offset_ = 0;
  Sha256 hash_;
  // Block-aligned, for direct I/O. When `buffer_` is full it is handed to `writer_` and the
  // spare one fills meanwhile; `spare_` is allocated at the first hand-over (small blobs never
  // need it).
  Buffer buffer_;
  Buffer spare_;  // the block being written by writer_, if any
  size_t buffered_ = 0;
  // Touched by the writer's thread while a block is in flight; by this one only after
  // writer_.Wait().
  bool direct_ = false;            // O_DIRECT is on for fd_
  bool direct_supported_ = false;  // the filesystem accepted O_DIRECT
  WriteBehind writer_;             // last: stops before the buffers go
};

}  // namespace wharf::content
