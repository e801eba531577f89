#include "wharf/daemon/data_dir_check.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

namespace wharf::daemon {

namespace {

std::string Octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

Result<std::vector<std::string>> CheckDataDir(const std::filesystem::path& dir, uid_t uid) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return ErrnoError("stat " + dir.string(), errno);
  const std::string name = "data directory " + dir.string();
  if (!S_ISDIR(st.st_mode)) return InvalidArgument(name + " is not a directory");
  if (st.st_uid != uid) {
    return PermissionDenied(name + " belongs to uid " + std::to_string(st.st_uid) +
                            ", but wharfd runs as uid " + std::to_string(uid) +
                            ": chown it to that user, or run wharfd as its owner");
  }
  if ((st.st_mode & S_IWOTH) != 0) {
    return PermissionDenied(name + " is writable by every user (mode " + Octal(st.st_mode) +
                            "): chmod o-w it");
  }
  std::vector<std::string> warnings;
  if ((st.st_mode & S_IWGRP) != 0) {
    warnings.push_back(name + " is writable by its group (mode " + Octal(st.st_mode) +
                       "); chmod g-w it unless that is meant");
  }
  if ((st.st_mode & (S_IROTH | S_IXOTH)) != 0) {
    warnings.push_back(name + " is open to other users (mode " + Octal(st.st_mode) +
                       "), who can read the images; chmod 700 it to keep them private");
  }
  return warnings;
}

}  // namespace wharf::daemon
