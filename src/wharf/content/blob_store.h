// The content-addressable blob store, laid out as an OCI image layout under its root:
//
//   ROOT/oci-layout                 {"imageLayoutVersion":"1.0.0"}
//   ROOT/index.json                 rewritten atomically by WriteIndex()
//   ROOT/blobs/sha256/<hex>         complete, verified blobs only
//   ROOT/ingest/<hex>.partial       resumable downloads in progress (never under blobs/)
//   ROOT/ingest/upload-<rand>.tmp   uploads in progress (digest not known yet), not resumable
//
// A blob appears under blobs/ only after its size and sha256 were verified and its bytes
// fsynced; it is renamed into place, so a reader never sees a half-written blob under its
// digest. Committing a blob that is already present succeeds without touching it.
// A blob's name is durable once blobs/sha256 is fsynced after its rename: at once (NameSync::
// kNow, the default: the call returns only then, also when it found the blob present), or,
// for a download that places several blobs (kLater), at its SyncBlobNames() before it records
// anything naming them. One fsync of the directory covers every rename before it, so a power
// cut can lose only kLater blobs not yet synced: absent, never half-written, fetched again.
// Thread-safe: all methods may be called from any thread. At most one Ingest per digest
// exists at a time; a second StartIngest for the same digest waits for the first to finish.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/base/digest.h"
#include "wharf/base/status.h"
#include "wharf/content/blob_writer.h"

namespace wharf::content {

// When a blob's new name under blobs/ is made durable (see the top of this file).
enum class NameSync { kNow, kLater };

class BlobStore;

// A download of one blob into the store. Bytes are hashed as they are written. When created
// over an existing partial file, the bytes already there are re-hashed (never trusted) and
// offset() tells where to resume (e.g. with an HTTP Range request). A partial file of the
// expected size is kept only if it is the blob: offset() == expected_size() then means
// nothing is left to download, only Commit().
// Not thread-safe; one writer. Destroying an Ingest without Commit() or Abort() keeps the
// partial file for a later resume.
class Ingest {
 public:
  ~Ingest();
  Ingest(const Ingest&) = delete;
  Ingest& operator=(const Ingest&) = delete;

  const Digest& digest() const { return digest_; }
  int64_t expected_size() const { return expected_size_; }
  // Bytes written so far (including resumed bytes).
  int64_t offset() const { return file_.offset(); }
  // Every expected byte is there (e.g. a resumed partial file that is the whole blob): only
  // Commit() is left. Never when the size is unknown.
  bool whole() const { return expected_size_ >= 0 && offset() == expected_size_; }

  // Appends bytes. Fails with DataLoss if this would exceed expected_size (when known, i.e. >= 0).
  Result<void> Write(const void* data, size_t n);
  // Drops everything written (server ignored Range): offset() becomes 0.
  Result<void> Restart();
  // Verifies size and digest, fsyncs, renames into blobs/, fsyncs the directory (with kLater,
  // the caller's SyncBlobNames() does). On a mismatch, removes the partial file and returns
  // DataLoss naming expected and actual.
  Result<void> Commit(NameSync sync = NameSync::kNow);
  // Removes the partial file.
  void Abort();

 private:
  friend class BlobStore;
  Ingest(BlobStore* store, Digest digest, int64_t expected_size);
  Result<void> Open();

  BlobStore* store_;
  Digest digest_;
  int64_t expected_size_;
  bool done_ = false;
  BlobWriter file_;  // the partial file; hashed, written behind (see blob_writer.h)
};

// A blob whose digest is known only once all its bytes are in (an entry of an image archive):
// written to ingest/upload-<random>.tmp, hashed as it comes, with the same write path as an
// Ingest. Nothing appears under blobs/ before Commit(). Not resumable: Abort(), the destructor
// without a Commit(), the next BlobStore::Open() and RemovePartials() remove the temp file.
// Not thread-safe; one writer. The store must outlive it.
class Upload {
 public:
  ~Upload();
  Upload(const Upload&) = delete;
  Upload& operator=(const Upload&) = delete;

  // Appends bytes. Internal naming the file on a write failure (the upload is then unusable).
  Result<void> Write(const void* data, size_t n);
  // Bytes written so far.
  int64_t size() const;
  // The sha256 of the bytes so far; the upload goes on.
  Digest digest_so_far() const;
  // Ends the upload and puts the blob under blobs/sha256/<hex>: verifies the digest when
  // `expected` is set (on a mismatch, DataLoss naming both, and the temp file goes), fsyncs,
  // calls `before_rename(digest)` (where the caller pins the digest against garbage
  // collection; it may be empty), renames, fsyncs the directory. A blob already present is
  // success: `before_rename` is called all the same (the present blob needs the pin as much),
  // the temp file goes without an fsync, the blob is not touched. Returns the digest. On any
  // failure (I/O: Internal naming the file) the temp file goes too. After Commit(), whatever
  // the outcome, the upload is done: Write() and Commit() fail with Internal.
  Result<Digest> Commit(std::optional<Digest> expected = std::nullopt,
                        std::function<void(const Digest&)> before_rename = {});
  // Removes the temp file; the upload is done. Idempotent.
  void Abort();

 private:
  friend class BlobStore;
  struct State;
  explicit Upload(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

class BlobStore {
 public:
  // Opens (creating if needed) a store at `root`: writes oci-layout and an empty index.json if
  // absent, creates blobs/sha256 and ingest/.
  static Result<std::unique_ptr<BlobStore>> Open(const std::filesystem::path& root);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path BlobPath(const Digest& d) const;

  bool Has(const Digest& d) const;
  // Size of a present blob; NotFound if absent.
  Result<int64_t> Size(const Digest& d) const;
  // Whole blob, refusing blobs over max_bytes (TooLarge).
  Result<std::string> Read(const Digest& d, size_t max_bytes = 4 << 20) const;
  // Verifies `data` against `d` and stores it. DataLoss on mismatch. Present = success.
  Result<void> Put(const Digest& d, std::string_view data, NameSync sync = NameSync::kNow);
  // Makes the names of every blob placed so far durable (one fsync of blobs/sha256, none when
  // nothing was placed with kLater since the last one). Internal naming the directory.
  Result<void> SyncBlobNames();
  // How many renames and unlinks under blobs/ wait for SyncBlobNames() (for tests).
  uint64_t NamesPendingSync() const { return names_changed_.load() - names_synced_.load(); }

  // Starts or resumes an ingest of `d`; expected_size < 0 means unknown. Returns nullptr if
  // the blob is already present (nothing to download). Blocks while another Ingest of the
  // same digest is alive, then re-checks presence.
  Result<std::unique_ptr<Ingest>> StartIngest(const Digest& d, int64_t expected_size);
  // Bytes already in the partial file of `d` (0 if none).
  int64_t PartialSize(const Digest& d) const;

  // Starts an upload of a blob whose digest is not known yet (see Upload). Any number may run
  // at once, also of the same bytes. Internal naming the file if it cannot be created.
  Result<std::unique_ptr<Upload>> StartUpload();

  // Removes a blob (no error if absent). With kLater the removal may be undone by a power cut
  // until the next SyncBlobNames() (the blob is then collected again).
  Result<void> Delete(const Digest& d, NameSync sync = NameSync::kNow);
  // Every complete blob.
  std::vector<Digest> List() const;
  // Removes partial ingests whose digest is not in `keep`, uploads' temp files that no live
  // Upload owns (left by a crash), and stray temp files.
  void RemovePartials(const std::set<Digest>& keep);

  // One image in index.json.
  struct IndexEntry {
    Digest manifest;
    std::string media_type;
    int64_t size = 0;
    std::string ref_name;    // org.opencontainers.image.ref.name, e.g. "ubuntu:latest"
    std::string image_name;  // io.containerd.image.name, e.g. "docker.io/library/ubuntu:latest"
  };
  // Rewrites index.json atomically with exactly these entries (temp file and rename, not
  // fsynced: wharfd writes it again from the metadata at every start); leaves it alone when it
  // already says exactly that, as at most starts.
  Result<void> WriteIndex(const std::vector<IndexEntry>& entries);

 private:
  friend class Ingest;
  friend class Upload;
  explicit BlobStore(std::filesystem::path root);
  std::filesystem::path PartialPath(const Digest& d) const;
  // Moves a verified, fsynced `temp` file to the blob `d` (or removes it if `d` is present).
  Result<void> Place(const std::filesystem::path& temp, const Digest& d, NameSync sync);
  void Release(const Digest& d);
  // Removes ingest/upload-*.tmp files that no live Upload owns.
  void RemoveUploads();
  void ReleaseUpload(const std::string& name);

  std::filesystem::path root_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<Digest> active_;        // digests with a live Ingest
  std::set<std::string> uploads_;  // file names of live Uploads
  std::mutex index_mu_;
  // Renames and unlinks under blobs/sha256 done with kLater, and how many of them the last
  // fsync of the directory covered.
  std::atomic<uint64_t> names_changed_{0};
  std::atomic<uint64_t> names_synced_{0};
};

}  // namespace wharf::content
