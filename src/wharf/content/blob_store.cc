#include "wharf/content/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>

#include "wharf/base/file_util.h"
#include "wharf/oci/image.h"

namespace wharf::content {

namespace fs = std::filesystem;

namespace {

// Large enough that write(2) and SHA-256 run at memory speed rather than per-call overhead.
constexpr size_t kWriteBufferSize = 1 << 20;
// Direct I/O needs buffers, offsets and lengths aligned to the device's logical block size;
// 4096 covers 512-byte and 4K devices.
constexpr size_t kDirectAlign = 4096;
constexpr mode_t kDirMode = 0755;
constexpr mode_t kBlobMode = 0644;
constexpr std::string_view kPartialSuffix = ".partial";
constexpr std::string_view kOciLayoutJson = R"({"imageLayoutVersion":"1.0.0"})";
// A temp file younger than this may belong to a Put() or WriteIndex() still running, so a
// cleanup while the store is in use leaves it alone. At Open() nothing can be running.
constexpr std::chrono::minutes kLiveTempFileAge{10};

// Like ErrnoError, but a full disk always reads "no space left on device" (strerror
// capitalises it), the phrase operators and callers look for.
Error IoError(std::string_view op, const fs::path& path, int err) {
  if (err == ENOSPC) {
    return Internal(std::string(op) + " " + path.string() + ": no space left on device");
  }
  return ErrnoError(std::string(op) + " " + path.string(), err);
}

Error Unusable(const Digest& d, bool done) {
  if (done) return Internal("ingest of " + d.str() + " is already committed or aborted");
  return Internal("ingest of " + d.str() + " failed earlier; start a new one to resume");
}

// mkdir with the store's directory mode; an existing directory is fine.
Result<void> MakeDir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), kDirMode) == 0) return {};
  int err = errno;
  struct stat st {};
  if (err == EEXIST && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return {};
  return IoError("mkdir", dir, err);
}

bool IsTempName(const fs::path& p) {
  return p.filename().string().find(kTempMarker) != std::string::npos;
}

// Removes leftovers of interrupted atomic writes in `dir` that are older than `min_age`.
void RemoveTempFiles(const fs::path& dir, std::chrono::seconds min_age) {
  std::error_code ec;
  const auto cutoff = fs::file_time_type::clock::now() - min_age;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!IsTempName(it->path()) || !it->is_regular_file(ec)) continue;
    if (min_age.count() > 0) {
      auto mtime = fs::last_write_time(it->path(), ec);
      if (ec || mtime > cutoff) continue;
    }
    fs::remove(it->path(), ec);
  }
}

Result<void> WriteFileIfAbsent(const fs::path& path, std::string_view data) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return {};
  if (errno != ENOENT) return IoError("stat", path, errno);
  return WriteFileAtomic(path, data, kBlobMode);
}

std::string IndexJson(const std::vector<BlobStore::IndexEntry>& entries) {
  using Json = nlohmann::ordered_json;
  Json manifests = Json::array();
  for (const BlobStore::IndexEntry& e : entries) {
    Json descriptor;
    descriptor["mediaType"] = e.media_type;
    descriptor["digest"] = e.manifest.str();
    descriptor["size"] = e.size;
    Json annotations = Json::object();
    if (!e.ref_name.empty()) annotations["org.opencontainers.image.ref.name"] = e.ref_name;
    if (!e.image_name.empty()) annotations["io.containerd.image.name"] = e.image_name;
    if (!annotations.empty()) descriptor["annotations"] = std::move(annotations);
    manifests.push_back(std::move(descriptor));
  }
  Json index;
  index["schemaVersion"] = 2;
  index["mediaType"] = std::string(oci::kOciIndex);
  index["manifests"] = std::move(manifests);
  return index.dump();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Ingest

Ingest::Ingest(BlobStore* store, Digest digest, int64_t expected_size)
    : store_(store), digest_(std::move(digest)), expected_size_(expected_size) {}

void Ingest::FreeDeleter::operator()(char* p) const { std::free(p); }

Ingest::Buffer Ingest::AlignedBuffer() {
  void* memory = nullptr;
  if (::posix_memalign(&memory, kDirectAlign, kWriteBufferSize) != 0) return nullptr;
  return Buffer(static_cast<char*>(memory));
}

Ingest::~Ingest() {
  // Keep what was written for a resume; the bytes are re-hashed then, so no fsync is needed.
  if (fd_) {
    Drain();
    fd_.reset();
  }
  store_->Release(digest_);
}

void Ingest::SetDirect(bool on) {
  if (!fd_ || direct_ == on || (on && !direct_supported_)) return;
  int flags = ::fcntl(fd_.get(), F_GETFL);
  if (flags >= 0 &&
      ::fcntl(fd_.get(), F_SETFL, on ? (flags | O_DIRECT) : (flags & ~O_DIRECT)) == 0) {
    direct_ = on;
  }
}

// Whole blocks go out with direct I/O while it is on; what follows a short write (an
// unaligned offset) or a refusal goes through the page cache, and direct I/O stays off for
// this file until Restart.
int Ingest::WriteBlocks(const char* data, size_t n) {
  const size_t blocks = n / kDirectAlign * kDirectAlign;
  size_t written = 0;
  while (direct_ && written < blocks) {
    ssize_t w = ::write(fd_.get(), data + written, blocks - written);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EINVAL && written == 0) {
      // The filesystem took the flag at open but refuses the write: no direct I/O then.
      direct_supported_ = false;
      SetDirect(false);
      break;
    }
    if (w < 0) return errno;
    if (w == 0) return EIO;
    written += static_cast<size_t>(w);
    if (written % kDirectAlign != 0) SetDirect(false);
  }
  if (written < n) SetDirect(false);  // the offset after the tail is no longer aligned
  return WriteAll(fd_.get(), std::string_view(data + written, n - written));
}

int Ingest::Drain() {
  if (int err = writer_.Wait(); err != 0) return err;
  int err = WriteBlocks(buffer_.get(), buffered_);
  if (err == 0) buffered_ = 0;
  return err;
}

Result<void> Ingest::Open() {
  const fs::path path = store_->PartialPath(digest_);
  fd_.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_DIRECT, kBlobMode));
  direct_supported_ = direct_ = static_cast<bool>(fd_);
  if (!fd_ && errno == EINVAL) {  // tmpfs and others refuse O_DIRECT
    fd_.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, kBlobMode));
  }
  if (!fd_) return IoError("open", path, errno);
  buffer_ = AlignedBuffer();
  if (!buffer_) return Internal("out of memory for the write buffer of " + digest_.str());
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return IoError("stat", path, errno);

  int64_t resume_at = st.st_size;
  // Longer than the blob can be: not a prefix of it, start over.
  if (expected_size_ >= 0 && resume_at > expected_size_) resume_at = 0;
  if (resume_at > 0) {
    std::string scratch(kWriteBufferSize, '\0');
    WHARF_ASSIGN_OR_RETURN(auto hashed, ReadFileChunks(
                                            path, scratch,
                                            [this](std::string_view piece) -> Result<void> {
                                              hash_.Update(piece.data(), piece.size());
                                              return {};
                                            },
                                            resume_at));
    resume_at = hashed;
  }
  // The blob's full length, never committed (a stop after the last byte, before the rename):
  // kept if it is the blob, for a Commit without a download; otherwise not even a prefix.
  if (resume_at > 0 && resume_at == expected_size_ && hash_.Peek() != digest_) {
    hash_.Finish();
    resume_at = 0;
  }
  if (resume_at != st.st_size && ::ftruncate(fd_.get(), resume_at) != 0) {
    return IoError("truncate", path, errno);
  }
  if (::lseek(fd_.get(), resume_at, SEEK_SET) < 0) return IoError("seek", path, errno);
  offset_ = resume_at;
  if (resume_at % kDirectAlign != 0) SetDirect(false);
  return {};
}

Result<void> Ingest::Write(const void* data, size_t n) {
  if (!fd_) return Unusable(digest_, done_);
  if (expected_size_ >= 0 && n > static_cast<uint64_t>(expected_size_ - offset_)) {
    return DataLoss("blob " + digest_.str() + " is larger than the expected " +
                    std::to_string(expected_size_) + " bytes");
  }
  const char* bytes = static_cast<const char*>(data);
  offset_ += static_cast<int64_t>(n);
  while (n > 0) {
    size_t take = std::min(n, kWriteBufferSize - buffered_);
    hash_.UpdateCopy(bytes, take, buffer_.get() + buffered_);  // one pass over the bytes
    buffered_ += take;
    bytes += take;
    n -= take;
    if (buffered_ < kWriteBufferSize) break;
    // The full buffer goes to disk on the writer's thread while the spare one fills.
    int err = writer_.Wait();
    if (err == 0 && !spare_) {
      spare_ = AlignedBuffer();
      if (!spare_) err = ENOMEM;
    }
    if (err != 0) {
      // What reached the file is a valid prefix; the next StartIngest resumes from it.
      fd_.reset();
      return IoError("write", store_->PartialPath(digest_), err);
    }
    std::swap(buffer_, spare_);
    buffered_ = 0;
    writer_.Start([this, block = spare_.get()] { return WriteBlocks(block, kWriteBufferSize); });
  }
  return {};
}

Result<void> Ingest::Restart() {
  if (done_) return Unusable(digest_, done_);
  const fs::path path = store_->PartialPath(digest_);
  writer_.Wait();  // the file is emptied anyway; a write that failed does not matter now
  buffered_ = 0;
  hash_.Finish();  // resets the hasher
  offset_ = 0;
  if (!fd_) {
    fd_.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kBlobMode));
    if (!fd_) return IoError("open", path, errno);
    direct_ = false;
    SetDirect(true);
    return {};
  }
  if (::ftruncate(fd_.get(), 0) != 0 || ::lseek(fd_.get(), 0, SEEK_SET) < 0) {
    int err = errno;
    fd_.reset();
    return IoError("truncate", path, err);
  }
  SetDirect(true);  // offset 0 is aligned again
  return {};
}

Result<void> Ingest::Commit() {
  if (!fd_) return Unusable(digest_, done_);
  const fs::path partial = store_->PartialPath(digest_);
  int err = Drain();
  if (err != 0) {
    fd_.reset();
    return IoError("write", partial, err);
  }
  if (expected_size_ >= 0 && offset_ != expected_size_) {
    Abort();
    return DataLoss("size mismatch for " + digest_.str() + ": expected " +
                    std::to_string(expected_size_) + " bytes, got " + std::to_string(offset_));
  }
  Digest actual = hash_.Finish();
  if (actual != digest_) {
    Abort();
    return DataLoss("digest mismatch for " + digest_.str() + ": got " + actual.str());
  }
  if (::fsync(fd_.get()) != 0) {
    err = errno;
    fd_.reset();
    return IoError("fsync", partial, err);
  }
  if (::close(fd_.release()) != 0) return IoError("close", partial, errno);
  done_ = true;

  const fs::path target = store_->BlobPath(digest_);
  if (store_->Has(digest_)) {  // e.g. stored by Put() meanwhile: identical bytes
    ::unlink(partial.c_str());
    return {};
  }
  if (::rename(partial.c_str(), target.c_str()) != 0) return IoError("rename", partial, errno);
  return FsyncDir(target.parent_path());
}

void Ingest::Abort() {
  writer_.Wait();
  fd_.reset();
  buffered_ = 0;
  if (!done_) ::unlink(store_->PartialPath(digest_).c_str());
  done_ = true;
}

// ---------------------------------------------------------------------------------------------
// BlobStore

BlobStore::BlobStore(fs::path root) : root_(std::move(root)) {}

Result<std::unique_ptr<BlobStore>> BlobStore::Open(const fs::path& root) {
  WHARF_RETURN_IF_ERROR(MakeDirs(root));
  for (const fs::path& dir : {root / "blobs", root / "blobs" / "sha256", root / "ingest"}) {
    WHARF_RETURN_IF_ERROR(MakeDir(dir));
  }
  auto store = std::unique_ptr<BlobStore>(new BlobStore(root));
  // Nothing else uses the store yet, so every temp file is a crash leftover. Partial ingests
  // stay: they are resumable.
  for (const fs::path& dir : {root, root / "blobs" / "sha256", root / "ingest"}) {
    RemoveTempFiles(dir, std::chrono::seconds(0));
  }
  WHARF_RETURN_IF_ERROR(WriteFileIfAbsent(root / "oci-layout", kOciLayoutJson));
  WHARF_RETURN_IF_ERROR(WriteFileIfAbsent(root / "index.json", IndexJson({})));
  return store;
}

fs::path BlobStore::BlobPath(const Digest& d) const { return root_ / "blobs" / "sha256" / d.hex(); }

fs::path BlobStore::PartialPath(const Digest& d) const {
  return root_ / "ingest" / (d.hex() + std::string(kPartialSuffix));
}

bool BlobStore::Has(const Digest& d) const {
  struct stat st {};
  return ::stat(BlobPath(d).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<int64_t> BlobStore::Size(const Digest& d) const {
  struct stat st {};
  if (::stat(BlobPath(d).c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFound("blob " + d.str() + " not found");
    return IoError("stat", BlobPath(d), errno);
  }
  return static_cast<int64_t>(st.st_size);
}

Result<std::string> BlobStore::Read(const Digest& d, size_t max_bytes) const {
  auto data = ReadFile(BlobPath(d), max_bytes);
  if (!data && data.error().code == Code::kNotFound) {
    return NotFound("blob " + d.str() + " not found");
  }
  return data;
}

Result<void> BlobStore::Put(const Digest& d, std::string_view data) {
  Digest actual = Digest::Of(data);
  if (actual != d) return DataLoss("digest mismatch for " + d.str() + ": got " + actual.str());
  if (Has(d)) return {};
  return WriteFileAtomic(BlobPath(d), data, kBlobMode);
}

Result<std::unique_ptr<Ingest>> BlobStore::StartIngest(const Digest& d, int64_t expected_size) {
  {
    std::unique_lock lock(mu_);
    if (Has(d)) return nullptr;
    cv_.wait(lock, [&] { return !active_.contains(d); });
    // The Ingest we waited for has most likely committed it.
    if (Has(d)) return nullptr;
    active_.insert(d);
  }
  // From here the Ingest owns the active_ mark and releases it when destroyed, also on error.
  std::unique_ptr<Ingest> ingest(new Ingest(this, d, expected_size));
  WHARF_RETURN_IF_ERROR(ingest->Open());
  return ingest;
}

int64_t BlobStore::PartialSize(const Digest& d) const {
  struct stat st {};
  if (::stat(PartialPath(d).c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_size);
}

Result<void> BlobStore::Delete(const Digest& d) {
  const fs::path path = BlobPath(d);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return {};
    return IoError("unlink", path, errno);
  }
  return FsyncDir(path.parent_path());
}

std::vector<Digest> BlobStore::List() const {
  std::vector<Digest> digests;
  std::error_code ec;
  for (fs::directory_iterator it(root_ / "blobs" / "sha256", ec), end; !ec && it != end;
       it.increment(ec)) {
    auto d = Digest::FromHex(it->path().filename().string());
    if (d) digests.push_back(*std::move(d));
  }
  std::sort(digests.begin(), digests.end());
  return digests;
}

void BlobStore::RemovePartials(const std::set<Digest>& keep) {
  std::error_code ec;
  {
    // Held throughout, so that no StartIngest can claim a partial between check and unlink.
    std::lock_guard lock(mu_);
    for (fs::directory_iterator it(root_ / "ingest", ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (!name.ends_with(kPartialSuffix)) continue;
      auto d =
          Digest::FromHex(std::string_view(name).substr(0, name.size() - kPartialSuffix.size()));
      if (!d || keep.contains(*d) || active_.contains(*d)) continue;
      std::error_code remove_ec;
      fs::remove(it->path(), remove_ec);
    }
  }
  for (const fs::path& dir : {root_, root_ / "blobs" / "sha256", root_ / "ingest"}) {
    RemoveTempFiles(dir, kLiveTempFileAge);
  }
}

Result<void> BlobStore::WriteIndex(const std::vector<IndexEntry>& entries) {
  std::lock_guard lock(index_mu_);
  const fs::path path = root_ / "index.json";
  std::string text = IndexJson(entries);
  // Only this store writes the file, always whole (temp file, fsync, rename).
  if (auto current = ReadFile(path); current && *current == text) return {};
  return WriteFileAtomic(path, text, kBlobMode);
}

void BlobStore::Release(const Digest& d) {
  {
    std::lock_guard lock(mu_);
    active_.erase(d);
  }
  cv_.notify_all();
}

}  // namespace wharf::content
