// Start-up checks on the data directory, which holds the user database and every image:
// wharfd refuses one that another user owns or that every user may write to (they could
// replace blobs or the database under it), and names what others can still do with it.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "wharf/base/status.h"

namespace wharf::daemon {

// PermissionDenied naming the directory and the fix when `dir` is owned by a uid other than
// `uid` or writable by others; otherwise the warnings to log (group-writable, readable by
// others), empty when its mode keeps it private.
Result<std::vector<std::string>> CheckDataDir(const std::filesystem::path& dir, uid_t uid);

}  // namespace wharf::daemon
