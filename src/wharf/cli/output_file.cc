#include "wharf/cli/output_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "wharf/base/file_util.h"

namespace wharf::cli {

namespace fs = std::filesystem;

namespace {

// A local file's failure (exit code 1): a missing directory is no missing image.
Error FileError(const std::string& what, int err) {
  return Error(Status{Code::kInternal, what + ": " + std::strerror(err)});
}

}  // namespace

Result<std::unique_ptr<OutputFile>> OutputFile::Create(const fs::path& path) {
  std::unique_ptr<OutputFile> f(new OutputFile());
  f->path_ = path;
  f->name_ = path.string();
  f->temp_ = TempPathFor(path);
  f->fd_ = UniqueFd(::open(f->temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!f->fd_) {
    int err = errno;
    f->temp_.clear();
    return FileError("cannot write " + f->name_, err);
  }
  f->out_ = f->fd_.get();
  return f;
}

std::unique_ptr<OutputFile> OutputFile::Stdout() {
  std::unique_ptr<OutputFile> f(new OutputFile());
  f->out_ = STDOUT_FILENO;
  f->name_ = "stdout";
  return f;
}

OutputFile::~OutputFile() {
  if (!temp_.empty()) {
    fd_.reset();
    ::unlink(temp_.c_str());
  }
}

Result<void> OutputFile::Write(std::string_view data) {
  if (pending_.empty() && data.size() >= kWriteSize) {
    if (int err = WriteAll(out_, data); err != 0) return FileError("write " + name_, err);
    written_ += static_cast<int64_t>(data.size());
  } else {
    pending_.append(data);
    if (pending_.size() >= kWriteSize) WHARF_RETURN_IF_ERROR(Flush());
  }
  if (!temp_.empty() && written_ - writeback_from_ >= kWritebackSize) {
    // Best effort: a filesystem without it just writes back later.
    ::sync_file_range(out_, writeback_from_, written_ - writeback_from_, SYNC_FILE_RANGE_WRITE);
    writeback_from_ = written_;
  }
  return {};
}

Result<void> OutputFile::Flush() {
  if (pending_.empty()) return {};
  if (int err = WriteAll(out_, pending_); err != 0) return FileError("write " + name_, err);
  written_ += static_cast<int64_t>(pending_.size());
  pending_.clear();
  return {};
}

Result<void> OutputFile::Commit() {
  WHARF_RETURN_IF_ERROR(Flush());
  if (temp_.empty()) {
    // A pipe or a terminal cannot be synced (EINVAL): only a regular file's error counts.
    if (::fsync(out_) != 0 && errno != EINVAL && errno != EROFS) {
      return FileError("fsync " + name_, errno);
    }
    return {};
  }
  if (::fsync(out_) != 0) return FileError("fsync " + name_, errno);
  if (::close(fd_.release()) != 0) return FileError("close " + name_, errno);
  if (::rename(temp_.c_str(), path_.c_str()) != 0) return FileError("rename to " + name_, errno);
  temp_.clear();
  return FsyncDir(path_.parent_path().empty() ? fs::path(".") : path_.parent_path());
}

}  // namespace wharf::cli
