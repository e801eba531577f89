// Where `wharf save` writes: a file that appears only whole, or stdout.
//
// A file is written to a temporary name beside it ("FILE.tmp-<random>"), then fsynced and
// renamed over FILE, and the directory fsynced: FILE is either as it was before or complete.
// An OutputFile dropped before Commit() removes its temporary file.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "wharf/base/status.h"
#include "wharf/base/unique_fd.h"

namespace wharf::cli {

class OutputFile {
 public:
  // Creates the temporary file beside `path` (mode 0644 less the umask). An error names the
  // path: a missing directory, no permission.
  static Result<std::unique_ptr<OutputFile>> Create(const std::filesystem::path& path);
  // Writes to standard output instead; Commit() only flushes it.
  static std::unique_ptr<OutputFile> Stdout();
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // Appends `data`, gathered into writes of kWriteSize; a file's writeback is started every
  // kWritebackSize so that the disk works while the data comes (the fsync of Commit() then
  // has little left to do). An error names the file (a full disk, a closed pipe).
  Result<void> Write(std::string_view data);

  static constexpr size_t kWriteSize = 1 << 20;
  static constexpr int64_t kWritebackSize = 8 << 20;
  // Makes the file whole under its name.
  Result<void> Commit();

  const std::string& name() const { return name_; }  // "FILE", or "stdout"

 private:
  OutputFile() = default;
  // Writes what is gathered.
  Result<void> Flush();

  UniqueFd fd_;
  int out_ = -1;  // the descriptor written: fd_, or 1
  std::filesystem::path path_;
  std::filesystem::path temp_;  // empty for stdout, and once committed
  std::string name_;
  std::string pending_;         // gathered, not written yet
  int64_t written_ = 0;         // bytes written to out_
  int64_t writeback_from_ = 0;  // where the next writeback starts
};

}  // namespace wharf::cli
