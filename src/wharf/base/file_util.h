// Durable file operations. A file written here is either absent or complete: bytes go to a
// temporary file in the same directory, are fsynced, renamed over the target, and the
// directory is fsynced (or less, for a caller that asks for less: see Durability). Temporary files
// carry the suffix ".tmp-<random>" so that fsck and start-up cleanup can recognise them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "wharf/base/status.h"

namespace wharf {

inline constexpr std::string_view kTempMarker = ".tmp-";

// How far WriteFileAtomic makes its write survive a power cut. Every level is atomic: a
// reader sees the old file or the new one, never a part.
enum class Durability {
  kFull,      // the file and the directory are fsynced: the new file survives a power cut
  kFileOnly,  // the file is fsynced, not the directory: after a power cut the file holds the
              // old contents or the new ones; the caller fsyncs the directory (FsyncDir)
              // before anything that relies on the new name
  kNone,      // no fsync: for files rebuilt from other data at every start (index.json)
};

// Atomically replaces `path` with `data` (mode 0644 unless given).
Result<void> WriteFileAtomic(const std::filesystem::path& path, std::string_view data,
                             unsigned mode = 0644, Durability durability = Durability::kFull);

// Reads a whole file, refusing files larger than `max_bytes` (TooLarge). NotFound if it is
// missing; Internal naming the path on any other open, stat or read failure.
Result<std::string> ReadFile(const std::filesystem::path& path, size_t max_bytes = 64 << 20);

// Streams `path` from its start through `chunk`, for files too large to hold in memory (to
// hash them, say): reads pieces of up to buffer.size() bytes into `buffer` (which is resized
// to 1 MiB if empty, and may be reused across calls) until end of file or until `limit` bytes
// were read (limit < 0: no limit). Returns how many bytes were read (fewer than `limit` when
// the file is shorter). Errors: NotFound if the file is missing, Internal naming the path on
// another open or read failure, or the first error `chunk` returns, as it is (reading stops).
Result<int64_t> ReadFileChunks(const std::filesystem::path& path, std::string& buffer,
                               const std::function<Result<void>(std::string_view)>& chunk,
                               int64_t limit = -1);

// Writes all of `data` at `fd`'s file position, retrying EINTR and short writes. Returns 0,
// or the errno value of the failure (EIO for a write that makes no progress): a step for
// callers that name the file themselves, or that carry the error across a thread first.
int WriteAll(int fd, std::string_view data);

// fsync(2) on a directory, so a rename inside it survives a power cut.
Result<void> FsyncDir(const std::filesystem::path& dir);

// A fresh unique temp path next to `path`: "<path>.tmp-<16 hex>".
std::filesystem::path TempPathFor(const std::filesystem::path& path);

// Creates `dir` and its parents (mode 0755) if missing.
Result<void> MakeDirs(const std::filesystem::path& dir);

// Cryptographically random bytes as lowercase hex (2*n chars).
std::string RandomHex(size_t n_bytes);

// "YYYY-MM-DD HH:MM:SS" in local time, and RFC 3339 UTC with nanoseconds trimmed.
std::string FormatLocalTime(int64_t epoch_seconds);
std::string FormatRfc3339(int64_t epoch_seconds);

}  // namespace wharf
