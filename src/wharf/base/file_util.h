// Durable file operations. A file written here is either absent or complete: bytes go to a
// temporary file in the same directory, are fsynced, renamed over the target, and the
// directory is fsynced. Temporary files carry the suffix ".tmp-<random>" so that fsck and
// start-up cleanup can recognise them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "wharf/base/status.h"

namespace wharf {

inline constexpr std::string_view kTempMarker = ".tmp-";

// Atomically replaces `path` with `data` (mode 0644 unless given).
Result<void> WriteFileAtomic(const std::filesystem::path& path, std::string_view data,
                             unsigned mode = 0644);

// Reads a whole file, refusing files larger than `max_bytes`.
Result<std::string> ReadFile(const std::filesystem::path& path, size_t max_bytes = 64 << 20);

// fsync(2) on a directory, so a rename inside it survives a power cut.
Result<void> FsyncDir(const std::filesystem::path& dir);

// A fresh unique temp path next to `path`: "<path>.tmp-<16 hex>".
std::filesystem::path TempPathFor(const std::filesystem::path& path);

// Creates `dir` and its parents (mode 0755) if missing.
Result<void> MakeDirs(const std::filesystem::path& dir);

// Cryptographically random bytes as lowercase hex (2*n chars).
std::string RandomHex(size_t n_bytes);

// Seconds since the Unix epoch.
int64_t NowSeconds();
// "YYYY-MM-DD HH:MM:SS" in local time, and RFC 3339 UTC with nanoseconds trimmed.
std::string FormatLocalTime(int64_t epoch_seconds);
std::string FormatRfc3339(int64_t epoch_seconds);

}  // namespace wharf
