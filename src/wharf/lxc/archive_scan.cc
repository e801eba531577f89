#include "wharf/lxc/archive_scan.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <set>
#include <utility>

#include "wharf/lxc/packed_file.h"
#include "wharf/lxc/remote_image.h"

namespace wharf::lxc {

namespace {

// Hands libarchive the decompressed bytes of a PackedFile (libarchive's own read side then
// sees a plain tar), keeping the first error with its code for the message.
class Source {
 public:
  Source(content::UnpackLimits limits, std::string stem)
      : file_(std::move(limits), std::move(stem)) {}

  Result<void> Open(const std::filesystem::path& path) { return file_.Open(path); }
  const std::string& label() const { return file_.label(); }
  const Status& error() const { return error_; }

  static la_ssize_t ReadCallback(struct archive* a, void* self, const void** buffer) {
    return static_cast<Source*>(self)->Read(a, buffer);
  }

 private:
  la_ssize_t Read(struct archive* a, const void** buffer) {
    auto piece = file_.Read();
    if (!piece) {
      error_ = piece.error();
      archive_set_error(a, EIO, "%s", error_.message.c_str());
      return -1;
    }
    *buffer = piece->data();
    return static_cast<la_ssize_t>(piece->size());
  }

  PackedFile file_;
  Status error_;
};

// "./a//b/./c/" → "a/b/c"; "./" → "".
std::string NormalisePath(std::string_view path) {
  std::string out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (!part.empty() && part != ".") {
      if (!out.empty()) out += '/';
      out += part;
    }
    start = end + 1;
  }
  return out;
}

// One archive being read entry by entry; checks every entry's path on the way.
class TarReader {
 public:
  TarReader(content::UnpackLimits limits, std::string stem)
      : source_(std::move(limits), std::move(stem)) {}
  ~TarReader() {
    if (archive_ != nullptr) archive_read_free(archive_);
  }

  Result<void> Open(const std::filesystem::path& path) {
    WHARF_RETURN_IF_ERROR(source_.Open(path));
    archive_ = archive_read_new();
    if (archive_ == nullptr) return Internal("archive_read_new failed");
    archive_read_support_format_tar(archive_);
    if (archive_read_open(archive_, &source_, nullptr, &Source::ReadCallback, nullptr) !=
        ARCHIVE_OK) {
      return Broken();
    }
    return {};
  }

  // The next entry, its path normalised and checked; nullptr at the end of the archive.
  Result<archive_entry*> Next(std::string& path) {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(archive_, &entry);
    if (r == ARCHIVE_EOF) return nullptr;
    if (r < ARCHIVE_WARN) return Broken();
    const char* raw = archive_entry_pathname(entry);
    if (raw == nullptr) return DataLoss(label() + ": an entry has no path");
    WHARF_RETURN_IF_ERROR(CheckPath(raw, "entry"));
    path = NormalisePath(raw);
    if (const char* target = archive_entry_hardlink(entry); target != nullptr) {
      WHARF_RETURN_IF_ERROR(CheckPath(target, "hard link target of " + std::string(raw) + ":"));
    }
    if (archive_entry_filetype(entry) == AE_IFLNK) symlinks_.insert(path);
    return entry;
  }

  Result<void> Skip() {
    if (archive_read_data_skip(archive_) < ARCHIVE_WARN) return Broken();
    return {};
  }

  // The data of the current entry; TooLarge past `max_bytes`.
  Result<std::string> ReadData(int64_t max_bytes) {
    std::string data;
    char buf[1 << 16];
    for (;;) {
      la_ssize_t n = archive_read_data(archive_, buf, sizeof buf);
      if (n == 0) return data;
      if (n < 0) return Broken();
      if (static_cast<int64_t>(data.size()) + n > max_bytes) {
        return DataLoss(label() + " holds more than " + std::to_string(max_bytes) + " bytes");
      }
      data.append(buf, static_cast<size_t>(n));
    }
  }

  const std::string& label() const { return source_.label(); }

 private:
  // The source's own error (broken data, a limit, a cancel) as it is; else libarchive's.
  Error Broken() {
    if (!source_.error().ok()) return Error(source_.error());
    const char* s = archive_error_string(archive_);
    return DataLoss(label() + " is broken: " + (s != nullptr ? s : "unreadable archive"));
  }

  Result<void> CheckPath(const char* raw, const std::string& what) {
    if (!IsSafeEntryPath(raw)) {
      return DataLoss(label() + ": unsafe " + what + " \"" + std::string(raw) +
                      "\" (absolute or with a \"..\" component)");
    }
    std::string path = NormalisePath(raw);
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      if (symlinks_.contains(path.substr(0, slash))) {
        return DataLoss(label() + ": " + what + " \"" + std::string(raw) +
                        "\" lies under the symbolic link \"" + path.substr(0, slash) + "\"");
      }
    }
    return {};
  }

  Source source_;
  struct archive* archive_ = nullptr;
  std::set<std::string> symlinks_;
};

// Device nodes, FIFOs and sockets, and setuid or setgid files (lxc.allow_special_files): a
// rootfs is unpacked by root on the host, where a world-readable /dev/mem or a setuid shell
// serves anyone who can reach the directory. Directories may be setgid (group inheritance).
Result<void> CheckSpecial(const std::string& label, const std::string& path, archive_entry* e) {
  const auto type = archive_entry_filetype(e);
  std::string what;
  if (type == AE_IFCHR || type == AE_IFBLK) {
    what = std::string(type == AE_IFCHR ? "a character" : "a block") + " device; device nodes";
  } else if (type == AE_IFIFO || type == AE_IFSOCK) {
    what = type == AE_IFIFO ? "a FIFO; FIFOs" : "a socket; sockets";
  } else if (type != AE_IFDIR && (archive_entry_perm(e) & (S_ISUID | S_ISGID)) != 0) {
    const auto perm = archive_entry_perm(e);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(perm & 07777));
    what = std::string((perm & S_ISUID) != 0 ? "setuid" : "setgid") + " (mode " + mode +
           "); setuid and setgid files";
  } else {
    return {};
  }
  return PermissionDenied(label + ": \"" + path + "\" is " + what +
                          " are refused unless lxc.allow_special_files = true");
}

}  // namespace

bool IsSafeEntryPath(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  return !HasDotDotSegment(path);
}

Result<RootfsSummary> ScanRootfs(const std::filesystem::path& file, const ScanOptions& options) {
  TarReader reader(options.limits, "rootfs.tar");
  WHARF_RETURN_IF_ERROR(reader.Open(file));
  content::UnpackMeter declared(options.limits, reader.label());
  RootfsSummary summary;
  summary.label = reader.label();
  for (;;) {
    std::string path;
    auto entry = reader.Next(path);
    if (!entry) return Error(entry.error());
    if (*entry == nullptr) break;
    ++summary.entries;
    if (!options.allow_special_files) {
      WHARF_RETURN_IF_ERROR(CheckSpecial(reader.label(), path, *entry));
    }
    if (archive_entry_filetype(*entry) == AE_IFREG && archive_entry_hardlink(*entry) == nullptr) {
      // The size the entry claims: a sparse file's whole length, though its data is a hole.
      summary.unpacked_size += std::max<int64_t>(0, archive_entry_size(*entry));
      WHARF_RETURN_IF_ERROR(declared.CheckDeclared(static_cast<uint64_t>(summary.unpacked_size),
                                                   "the sizes of its files"));
    }
    WHARF_RETURN_IF_ERROR(reader.Skip());
  }
  if (summary.entries == 0) return DataLoss(reader.label() + " holds no files");
  return summary;
}

Result<std::vector<MetaFile>> ReadMeta(const std::filesystem::path& tar_xz, int64_t max_bytes) {
  // Its own bound on the files' bytes; the ratio and the default size bound on the stream.
  TarReader reader({}, "meta.tar");
  WHARF_RETURN_IF_ERROR(reader.Open(tar_xz));
  std::vector<MetaFile> files;
  bool has_config = false;
  int64_t budget = max_bytes;
  for (;;) {
    std::string path;
    auto entry = reader.Next(path);
    if (!entry) return Error(entry.error());
    if (*entry == nullptr) break;
    MetaFile file;
    file.path = path;
    file.mode = (archive_entry_perm(*entry) & 0755) | 0644;
    auto type = archive_entry_filetype(*entry);
    if (type == AE_IFDIR) {
      file.is_dir = true;
      WHARF_RETURN_IF_ERROR(reader.Skip());
      if (path.empty()) continue;  // the archive's own "./"
    } else if (type == AE_IFREG && archive_entry_hardlink(*entry) == nullptr) {
      WHARF_ASSIGN_OR_RETURN(auto data, reader.ReadData(budget));
      budget -= static_cast<int64_t>(data.size());
      file.data = std::move(data);
      has_config = has_config || path == "config";
    } else {
      return DataLoss(reader.label() + ": \"" + path + "\" is neither a file nor a directory");
    }
    files.push_back(std::move(file));
  }
  if (!has_config) {
    return DataLoss(reader.label() + " has no \"config\" file (lxc-create needs it)");
  }
  return files;
}

}  // namespace wharf::lxc
