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

// Re-hashing a partial file reads it in pieces of this size.
constexpr size_t kReadBufferSize = 1 << 20;
constexpr mode_t kDirMode = 0755;
constexpr std::string_view kPartialSuffix = ".partial";
constexpr std::string_view kUploadPrefix = "upload-";
constexpr std::string_view kUploadSuffix = ".tmp";
constexpr std::string_view kOciLayoutJson = R"({"imageLayoutVersion":"1.0.0"})";
// A temp file younger than this may belong to a Put() or WriteIndex() still running, so a
// cleanup while the store is in use leaves it alone. At Open() nothing can be running.
constexpr std::chrono::minutes kLiveTempFileAge{10};

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

bool IsUploadName(std::string_view name) {
  return name.starts_with(kUploadPrefix) && name.ends_with(kUploadSuffix);
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

Ingest::~Ingest() {
  // Keep what was written for a resume, closed before another Ingest may open it.
  file_.Close();
  store_->Release(digest_);
}

Result<void> Ingest::Open() {
  const fs::path path = store_->PartialPath(digest_);
  WHARF_RETURN_IF_ERROR(file_.Open(path, /*exclusive=*/false));
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return IoError("stat", path, errno);

  int64_t resume_at = st.st_size;
  // Longer than the blob can be: not a prefix of it, start over.
  if (expected_size_ >= 0 && resume_at > expected_size_) resume_at = 0;
  Sha256& hash = file_.hash();
  if (resume_at > 0) {
    std::string scratch(kReadBufferSize, '\0');
    WHARF_ASSIGN_OR_RETURN(auto hashed, ReadFileChunks(
                                            path, scratch,
                                            [&hash](std::string_view piece) -> Result<void> {
                                              hash.Update(piece.data(), piece.size());
                                              return {};
                                            },
                                            resume_at));
    resume_at = hashed;
  }
  // The blob's full length, never committed (a stop after the last byte, before the rename):
  // kept if it is the blob, for a Commit without a download; otherwise not even a prefix.
  if (resume_at > 0 && resume_at == expected_size_ && hash.Peek() != digest_) {
    hash.Finish();
    resume_at = 0;
  }
  return file_.TruncateTo(resume_at);
}

Result<void> Ingest::Write(const void* data, size_t n) {
  if (!file_.is_open()) return Unusable(digest_, done_);
  if (expected_size_ >= 0 && n > static_cast<uint64_t>(expected_size_ - offset())) {
    return DataLoss("blob " + digest_.str() + " is larger than the expected " +
                    std::to_string(expected_size_) + " bytes");
  }
  // On a write failure what reached the file is a valid prefix; the next StartIngest resumes
  // from it.
  return file_.Write(data, n);
}

Result<void> Ingest::Restart() {
  if (done_) return Unusable(digest_, done_);
  return file_.Restart();
}

Result<void> Ingest::Commit(NameSync sync) {
  if (!file_.is_open()) return Unusable(digest_, done_);
  WHARF_RETURN_IF_ERROR(file_.Flush());
  if (expected_size_ >= 0 && offset() != expected_size_) {
    Abort();
    return DataLoss("size mismatch for " + digest_.str() + ": expected " +
                    std::to_string(expected_size_) + " bytes, got " + std::to_string(offset()));
  }
  Digest actual = file_.hash().Finish();
  if (actual != digest_) {
    Abort();
    return DataLoss("digest mismatch for " + digest_.str() + ": got " + actual.str());
  }
  WHARF_RETURN_IF_ERROR(file_.SyncAndClose());
  done_ = true;
  return store_->Place(store_->PartialPath(digest_), digest_, sync);
}

void Ingest::Abort() {
  file_.Drop();
  if (!done_) ::unlink(store_->PartialPath(digest_).c_str());
  done_ = true;
}

// ---------------------------------------------------------------------------------------------
// Upload

struct Upload::State {
  BlobStore* store;
  std::string name;  // under ingest/
  fs::path path;
  BlobWriter file;
  bool done = false;
};

Upload::Upload(std::unique_ptr<State> state) : state_(std::move(state)) {}

Upload::~Upload() {
  Abort();
  state_->store->ReleaseUpload(state_->name);
}

Result<void> Upload::Write(const void* data, size_t n) {
  if (state_->done) return Internal("upload " + state_->path.string() + " is already done");
  return state_->file.Write(data, n);
}

int64_t Upload::size() const { return state_->file.offset(); }

Digest Upload::digest_so_far() const { return state_->file.hash().Peek(); }

Result<Digest> Upload::Commit(std::optional<Digest> expected,
                              std::function<void(const Digest&)> before_rename) {
  State& s = *state_;
  if (s.done) return Internal("upload " + s.path.string() + " is already done");
  // Whatever happens from here, the upload is over; on every failure the temp file goes.
  auto fail = [this](Error error) {
    Abort();
    return error;
  };
  if (auto flushed = s.file.Flush(); !flushed) return fail(Error(flushed.error()));
  const Digest actual = s.file.hash().Finish();
  if (expected && *expected != actual) {
    return fail(DataLoss("digest mismatch for " + expected->str() + ": got " + actual.str()));
  }
  if (s.store->Has(actual)) {  // nothing to store; no fsync for bytes about to go
    if (before_rename) before_rename(actual);
    Abort();
    if (auto synced = s.store->SyncBlobNames(); !synced) return Error(synced.error());
    return actual;
  }
  if (auto synced = s.file.SyncAndClose(); !synced) return fail(Error(synced.error()));
  if (before_rename) before_rename(actual);
  if (auto placed = s.store->Place(s.path, actual, NameSync::kNow); !placed) {
    return fail(Error(placed.error()));
  }
  s.done = true;
  return actual;
}

void Upload::Abort() {
  State& s = *state_;
  s.file.Drop();
  if (!s.done) ::unlink(s.path.c_str());
  s.done = true;
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
  // Nothing else uses the store yet, so every temp file and upload is a crash leftover.
  // Partial ingests stay: they are resumable.
  for (const fs::path& dir : {root, root / "blobs" / "sha256", root / "ingest"}) {
    RemoveTempFiles(dir, std::chrono::seconds(0));
  }
  store->RemoveUploads();
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

Result<void> BlobStore::Put(const Digest& d, std::string_view data, NameSync sync) {
  Digest actual = Digest::Of(data);
  if (actual != d) return DataLoss("digest mismatch for " + d.str() + ": got " + actual.str());
  if (!Has(d)) {
    if (sync == NameSync::kNow) return WriteFileAtomic(BlobPath(d), data, kBlobMode);
    WHARF_RETURN_IF_ERROR(WriteFileAtomic(BlobPath(d), data, kBlobMode, Durability::kFileOnly));
    names_changed_.fetch_add(1);
    return {};
  }
  return sync == NameSync::kNow ? SyncBlobNames() : Result<void>{};
}

Result<void> BlobStore::SyncBlobNames() {
  const uint64_t changed = names_changed_.load();
  if (names_synced_.load() >= changed) return {};
  WHARF_RETURN_IF_ERROR(FsyncDir(root_ / "blobs" / "sha256"));
  // Another SyncBlobNames may have covered more meanwhile: keep the larger count.
  uint64_t synced = names_synced_.load();
  while (synced < changed && !names_synced_.compare_exchange_weak(synced, changed)) {
  }
  return {};
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

Result<std::unique_ptr<Upload>> BlobStore::StartUpload() {
  auto state = std::make_unique<Upload::State>();
  state->store = this;
  state->name = std::string(kUploadPrefix) + RandomHex(12) + std::string(kUploadSuffix);
  state->path = root_ / "ingest" / state->name;
  {
    std::lock_guard lock(mu_);
    uploads_.insert(state->name);
  }
  // From here the Upload owns the name and its file, and gives both up when destroyed.
  std::unique_ptr<Upload> upload(new Upload(std::move(state)));
  WHARF_RETURN_IF_ERROR(upload->state_->file.Open(upload->state_->path, /*exclusive=*/true));
  return upload;
}

Result<void> BlobStore::Place(const fs::path& temp, const Digest& d, NameSync sync) {
  const fs::path target = BlobPath(d);
  if (Has(d)) {  // e.g. stored by Put() meanwhile: identical bytes
    ::unlink(temp.c_str());
  } else {
    if (::rename(temp.c_str(), target.c_str()) != 0) return IoError("rename", temp, errno);
    names_changed_.fetch_add(1);
  }
  return sync == NameSync::kNow ? SyncBlobNames() : Result<void>{};
}

int64_t BlobStore::PartialSize(const Digest& d) const {
  struct stat st {};
  if (::stat(PartialPath(d).c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_size);
}

Result<void> BlobStore::Delete(const Digest& d, NameSync sync) {
  const fs::path path = BlobPath(d);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return {};
    return IoError("unlink", path, errno);
  }
  names_changed_.fetch_add(1);
  return sync == NameSync::kNow ? SyncBlobNames() : Result<void>{};
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
  RemoveUploads();
  for (const fs::path& dir : {root_, root_ / "blobs" / "sha256", root_ / "ingest"}) {
    RemoveTempFiles(dir, kLiveTempFileAge);
  }
}

Result<void> BlobStore::WriteIndex(const std::vector<IndexEntry>& entries) {
  std::lock_guard lock(index_mu_);
  const fs::path path = root_ / "index.json";
  std::string text = IndexJson(entries);
  // Only this store writes the file, always whole (temp file, rename). Not fsynced: wharfd
  // writes it again from the metadata at every start, so a power cut costs nothing lasting.
  if (auto current = ReadFile(path); current && *current == text) return {};
  return WriteFileAtomic(path, text, kBlobMode, Durability::kNone);
}

void BlobStore::RemoveUploads() {
  std::lock_guard lock(mu_);  // no StartUpload registers a name meanwhile
  std::error_code ec;
  for (fs::directory_iterator it(root_ / "ingest", ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!IsUploadName(name) || uploads_.contains(name)) continue;
    std::error_code remove_ec;
    fs::remove(it->path(), remove_ec);
  }
}

void BlobStore::ReleaseUpload(const std::string& name) {
  std::lock_guard lock(mu_);
  uploads_.erase(name);
}

void BlobStore::Release(const Digest& d) {
  {
    std::lock_guard lock(mu_);
    active_.erase(d);
  }
  cv_.notify_all();
}

}  // namespace wharf::content
