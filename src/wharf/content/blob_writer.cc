#include "wharf/content/blob_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <utility>

#include "wharf/base/file_util.h"

namespace wharf::content {

namespace fs = std::filesystem;

namespace {

// Large enough that write(2) and SHA-256 run at memory speed rather than per-call overhead.
constexpr size_t kWriteBufferSize = 1 << 20;
// Direct I/O needs buffers, offsets and lengths aligned to the device's logical block size;
// 4096 covers 512-byte and 4K devices.
constexpr size_t kDirectAlign = 4096;

}  // namespace

Error IoError(std::string_view op, const fs::path& path, int err) {
  if (err == ENOSPC) {
    return Internal(std::string(op) + " " + path.string() + ": no space left on device");
  }
  return ErrnoError(std::string(op) + " " + path.string(), err);
}

void BlobWriter::FreeDeleter::operator()(char* p) const { std::free(p); }

BlobWriter::Buffer BlobWriter::AlignedBuffer() {
  void* memory = nullptr;
  if (::posix_memalign(&memory, kDirectAlign, kWriteBufferSize) != 0) return nullptr;
  return Buffer(static_cast<char*>(memory));
}

BlobWriter::~BlobWriter() { Close(); }

Result<void> BlobWriter::Open(const fs::path& path, bool exclusive) {
  path_ = path;
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : 0);
  fd_.reset(::open(path.c_str(), flags | O_DIRECT, kBlobMode));
  direct_supported_ = direct_ = static_cast<bool>(fd_);
  if (!fd_ && errno == EINVAL) {
    // tmpfs and others refuse O_DIRECT, after creating the file: it is ours, O_EXCL is done.
    fd_.reset(::open(path.c_str(), flags & ~O_EXCL, kBlobMode));
  }
  if (!fd_) return IoError("open", path, errno);
  buffer_ = AlignedBuffer();
  if (!buffer_) return Internal("out of memory for the write buffer of " + path.string());
  offset_ = 0;
  buffered_ = 0;
  return {};
}

void BlobWriter::SetDirect(bool on) {
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
int BlobWriter::WriteBlocks(const char* data, size_t n) {
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

int BlobWriter::Drain() {
  if (int err = writer_.Wait(); err != 0) return err;
  int err = WriteBlocks(buffer_.get(), buffered_);
  if (err == 0) buffered_ = 0;
  return err;
}

Result<void> BlobWriter::TruncateTo(int64_t at) {
  struct stat st {};
  int err = 0;
  if (::fstat(fd_.get(), &st) != 0 || (st.st_size != at && ::ftruncate(fd_.get(), at) != 0) ||
      ::lseek(fd_.get(), at, SEEK_SET) < 0) {
    err = errno;
  }
  if (err != 0) {
    fd_.reset();
    return IoError("truncate", path_, err);
  }
  offset_ = at;
  if (at % static_cast<int64_t>(kDirectAlign) != 0) SetDirect(false);
  return {};
}

Result<void> BlobWriter::Restart() {
  writer_.Wait();  // the file is emptied anyway; a write that failed does not matter now
  buffered_ = 0;
  hash_.Finish();  // resets the hasher
  offset_ = 0;
  if (!fd_) {
    fd_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kBlobMode));
    if (!fd_) return IoError("open", path_, errno);
    direct_ = false;
    SetDirect(true);
    return {};
  }
  WHARF_RETURN_IF_ERROR(TruncateTo(0));
  SetDirect(true);  // offset 0 is aligned again
  return {};
}

Result<void> BlobWriter::Write(const void* data, size_t n) {
  if (!fd_) return Internal("write to " + path_.string() + " after it was closed");
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
      fd_.reset();  // what reached the file is a valid prefix
      return IoError("write", path_, err);
    }
    std::swap(buffer_, spare_);
    buffered_ = 0;
    writer_.Start([this, block = spare_.get()] { return WriteBlocks(block, kWriteBufferSize); });
  }
  return {};
}

Result<void> BlobWriter::Flush() {
  if (!fd_) return Internal("flush of " + path_.string() + " after it was closed");
  if (int err = Drain(); err != 0) {
    fd_.reset();
    return IoError("write", path_, err);
  }
  return {};
}

Result<void> BlobWriter::SyncAndClose() {
  WHARF_RETURN_IF_ERROR(Flush());
  if (::fsync(fd_.get()) != 0) {
    int err = errno;
    fd_.reset();
    return IoError("fsync", path_, err);
  }
  if (::close(fd_.release()) != 0) return IoError("close", path_, errno);
  return {};
}

void BlobWriter::Close() {
  if (fd_) Drain();
  Drop();
}

void BlobWriter::Drop() {
  writer_.Wait();
  fd_.reset();
  buffered_ = 0;
}

}  // namespace wharf::content
