#include "wharf/base/file_util.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "wharf/base/unique_fd.h"

namespace wharf {

namespace fs = std::filesystem;

namespace {

constexpr size_t kDefaultChunkSize = 1 << 20;

// One read(2), retried while a signal interrupts it: bytes read, 0 at end of file, -1 with
// errno set on failure.
ssize_t ReadSome(int fd, char* buf, size_t n) {
  for (;;) {
    ssize_t got = ::read(fd, buf, n);
    if (got >= 0 || errno != EINTR) return got;
  }
}

}  // namespace

std::string RandomHex(size_t n_bytes) {
  std::string raw(n_bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(n_bytes));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * n_bytes, '0');
  for (size_t i = 0; i < n_bytes; ++i) {
    auto b = static_cast<unsigned char>(raw[i]);
    out[2 * i] = kHex[b >> 4];
    out[2 * i + 1] = kHex[b & 15];
  }
  return out;
}

fs::path TempPathFor(const fs::path& path) {
  return fs::path(path.string() + std::string(kTempMarker) + RandomHex(8));
}

Result<void> FsyncDir(const fs::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return ErrnoError("open " + dir.string(), errno);
  if (::fsync(fd.get()) != 0) return ErrnoError("fsync " + dir.string(), errno);
  return {};
}

Result<void> MakeDirs(const fs::path& dir) {
  if (dir.empty()) return {};
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return {};
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    WHARF_RETURN_IF_ERROR(MakeDirs(dir.parent_path()));
  }
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoError("mkdir " + dir.string(), errno);
  }
  return {};
}

int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (written == 0) return EIO;  // never happens for regular files; avoids spinning
    data.remove_prefix(static_cast<size_t>(written));
  }
  return 0;
}

Result<void> WriteFileAtomic(const fs::path& path, std::string_view data, unsigned mode,
                             Durability durability) {
  fs::path tmp = TempPathFor(path);
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd) return ErrnoError("create " + tmp.string(), errno);
  auto fail = [&](std::string_view what, int err) {
    fd.reset();
    ::unlink(tmp.c_str());
    return ErrnoError(std::string(what) + " " + tmp.string(), err);
  };
  if (int err = WriteAll(fd.get(), data); err != 0) return fail("write", err);
  if (durability != Durability::kNone && ::fsync(fd.get()) != 0) return fail("fsync", errno);
  if (::close(fd.release()) != 0) return fail("close", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoError("rename " + path.string(), err);
  }
  if (durability != Durability::kFull) return {};
  return FsyncDir(path.parent_path().empty() ? fs::path(".") : path.parent_path());
}

Result<std::string> ReadFile(const fs::path& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoError("open " + path.string(), errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("stat " + path.string(), errno);
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    return TooLarge(path.string() + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = ReadSome(fd.get(), out.data() + off, out.size() - off);
    if (n < 0) return ErrnoError("read " + path.string(), errno);
    if (n == 0) break;  // the file shrank meanwhile
    off += static_cast<size_t>(n);
  }
  out.resize(off);
  return out;
}

Result<int64_t> ReadFileChunks(const fs::path& path, std::string& buffer,
                               const std::function<Result<void>(std::string_view)>& chunk,
                               int64_t limit) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoError("open " + path.string(), errno);
  ::posix_fadvise(fd.get(), 0, std::max<int64_t>(limit, 0), POSIX_FADV_SEQUENTIAL);
  if (buffer.empty()) buffer.resize(kDefaultChunkSize);
  int64_t total = 0;
  while (limit < 0 || total < limit) {
    size_t want = buffer.size();
    if (limit >= 0) want = static_cast<size_t>(std::min<int64_t>(limit - total, want));
    ssize_t got = ReadSome(fd.get(), buffer.data(), want);
    if (got < 0) return ErrnoError("read " + path.string(), errno);
    if (got == 0) break;
    WHARF_RETURN_IF_ERROR(chunk(std::string_view(buffer.data(), static_cast<size_t>(got))));
    total += got;
  }
  return total;
}

std::string FormatLocalTime(int64_t epoch_seconds) {
  time_t t = static_cast<time_t>(epoch_seconds);
  struct tm tm {};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string FormatRfc3339(int64_t epoch_seconds) {
  time_t t = static_cast<time_t>(epoch_seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace wharf
