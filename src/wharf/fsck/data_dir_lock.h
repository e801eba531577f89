// The lock that gives one process at a time the data directory: wharfd holds it while it
// runs, and `wharfd fsck` holds it while it checks and repairs, so neither ever sees the
// other's half-done work. It is an flock(2) on DATA/wharfd.lock, released by the kernel when
// the process exits, however it exits, so a crash never leaves a stale lock behind. The file
// holds the holder's pid, for the message a second process gets.
#pragma once

#include <filesystem>
#include <memory>
#include <utility>

#include "wharf/base/status.h"
#include "wharf/base/unique_fd.h"

namespace wharf::fsck {

inline constexpr const char* kLockFileName = "wharfd.lock";

class DataDirLock {
 public:
  // Takes the lock of `data_dir` (which must exist) without waiting. Conflict naming the
  // directory and the holder's pid when another process holds it; Internal on an I/O error.
  static Result<std::unique_ptr<DataDirLock>> Acquire(const std::filesystem::path& data_dir);
  ~DataDirLock() = default;  // releases the lock (the file stays)
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace wharf::fsck
