#include "wharf/fsck/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace wharf::fsck {

namespace {

// The pid written by the holder, or "" when the file holds none.
std::string HolderPid(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return "";
  std::string pid(buf, static_cast<size_t>(n));
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.find_first_not_of("0123456789") == std::string::npos ? pid : "";
}

}  // namespace

Result<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(const std::filesystem::path& data_dir) {
  const std::filesystem::path path = data_dir / kLockFileName;
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) return ErrnoError("open " + path.string(), errno);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return ErrnoError("lock " + path.string(), errno);
    std::string pid = HolderPid(fd.get());
    return Conflict("data directory " + data_dir.string() + " is in use by another wharfd" +
                    (pid.empty() ? "" : " (pid " + pid + ")") + "; it holds " + path.string());
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0) {
    return ErrnoError("write " + path.string(), errno);
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(std::move(fd)));
}

}  // namespace wharf::fsck
