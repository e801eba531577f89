#include "wharf/lxc/archive_scan.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <lzma.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "wharf/base/unique_fd.h"
#include "wharf/lxc/remote_image.h"

namespace wharf::lxc {

namespace {

std::string LzmaMessage(lzma_ret ret) {
  switch (ret) {
    case LZMA_FORMAT_ERROR:
      return "not xz data";
    case LZMA_DATA_ERROR:
      return "corrupt xz data";
    case LZMA_BUF_ERROR:
      return "truncated xz data";
    case LZMA_MEM_ERROR:
      return "out of memory decompressing xz";
    case LZMA_OPTIONS_ERROR:
      return "unsupported xz options";
    case LZMA_MEMLIMIT_ERROR:
      return "xz data needs too much memory";
    default:
      return "xz error " + std::to_string(static_cast<int>(ret));
  }
}

// Feeds libarchive with the decompressed bytes of an .xz file (libarchive's own read side
// then sees a plain tar).
class XzSource {
 public:
  XzSource() : in_(1 << 16), out_(1 << 18) {}
  ~XzSource() { lzma_end(&strm_); }
  XzSource(const XzSource&) = delete;
  XzSource& operator=(const XzSource&) = delete;

  Result<void> Open(const std::filesystem::path& path) {
    fd_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd_) return ErrnoError("open " + path.string(), errno);
    lzma_ret ret = lzma_stream_decoder(&strm_, UINT64_MAX, LZMA_CONCATENATED);
    if (ret != LZMA_OK) return Internal(LzmaMessage(ret));
    return {};
  }

  const std::string& error() const { return error_; }

  static la_ssize_t ReadCallback(struct archive* a, void* self, const void** buffer) {
    return static_cast<XzSource*>(self)->Read(a, buffer);
  }

 private:
  la_ssize_t Fail(struct archive* a, std::string message) {
    error_ = std::move(message);
    archive_set_error(a, EIO, "%s", error_.c_str());
    return -1;
  }

  la_ssize_t Read(struct archive* a, const void** buffer) {
    if (ended_) return 0;
    strm_.next_out = out_.data();
    strm_.avail_out = out_.size();
    while (strm_.avail_out == out_.size()) {
      if (strm_.avail_in == 0 && !eof_) {
        ssize_t n;
        do {
          n = ::read(fd_.get(), in_.data(), in_.size());
        } while (n < 0 && errno == EINTR);
        if (n < 0) return Fail(a, std::string("read: ") + std::strerror(errno));
        eof_ = n == 0;
        strm_.next_in = in_.data();
        strm_.avail_in = static_cast<size_t>(n);
      }
      lzma_ret ret = lzma_code(&strm_, eof_ ? LZMA_FINISH : LZMA_RUN);
      if (ret == LZMA_STREAM_END) {
        ended_ = true;
        break;
      }
      if (ret != LZMA_OK) return Fail(a, LzmaMessage(ret));
    }
    *buffer = out_.data();
    return static_cast<la_ssize_t>(out_.size() - strm_.avail_out);
  }

  UniqueFd fd_;
  lzma_stream strm_ = LZMA_STREAM_INIT;
  std::vector<uint8_t> in_, out_;
  bool eof_ = false;
  bool ended_ = false;
  std::string error_;
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
class TarXzReader {
 public:
  explicit TarXzReader(std::string label) : label_(std::move(label)) {}
  ~TarXzReader() {
    if (archive_ != nullptr) archive_read_free(archive_);
  }

  Result<void> Open(const std::filesystem::path& path) {
    WHARF_RETURN_IF_ERROR(source_.Open(path));
    archive_ = archive_read_new();
    if (archive_ == nullptr) return Internal("archive_read_new failed");
    archive_read_support_format_tar(archive_);
    if (archive_read_open(archive_, &source_, nullptr, &XzSource::ReadCallback, nullptr) !=
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
    if (raw == nullptr) return DataLoss(label_ + ": an entry has no path");
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
        return DataLoss(label_ + " holds more than " + std::to_string(max_bytes) + " bytes");
      }
      data.append(buf, static_cast<size_t>(n));
    }
  }

  const std::string& label() const { return label_; }

 private:
  Error Broken() {
    std::string why = source_.error();
    if (why.empty()) {
      const char* s = archive_error_string(archive_);
      why = s != nullptr ? s : "unreadable archive";
    }
    return DataLoss(label_ + " is broken: " + why);
  }

  Result<void> CheckPath(const char* raw, const std::string& what) {
    if (!IsSafeEntryPath(raw)) {
      return DataLoss(label_ + ": unsafe " + what + " \"" + std::string(raw) +
                      "\" (absolute or with a \"..\" component)");
    }
    std::string path = NormalisePath(raw);
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      if (symlinks_.contains(path.substr(0, slash))) {
        return DataLoss(label_ + ": " + what + " \"" + std::string(raw) +
                        "\" lies under the symbolic link \"" + path.substr(0, slash) + "\"");
      }
    }
    return {};
  }

  std::string label_;
  XzSource source_;
  struct archive* archive_ = nullptr;
  std::set<std::string> symlinks_;
};

}  // namespace

bool IsSafeEntryPath(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  return !HasDotDotSegment(path);
}

Result<RootfsSummary> ScanRootfs(const std::filesystem::path& tar_xz) {
  TarXzReader reader("rootfs.tar.xz");
  WHARF_RETURN_IF_ERROR(reader.Open(tar_xz));
  RootfsSummary summary;
  for (;;) {
    std::string path;
    auto entry = reader.Next(path);
    if (!entry) return Error(entry.error());
    if (*entry == nullptr) break;
    ++summary.entries;
    if (archive_entry_filetype(*entry) == AE_IFREG && archive_entry_hardlink(*entry) == nullptr) {
      summary.unpacked_size += archive_entry_size(*entry);
    }
    WHARF_RETURN_IF_ERROR(reader.Skip());
  }
  if (summary.entries == 0) return DataLoss("rootfs.tar.xz holds no files");
  return summary;
}

Result<std::vector<MetaFile>> ReadMeta(const std::filesystem::path& tar_xz, int64_t max_bytes) {
  TarXzReader reader("meta.tar.xz");
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
      return DataLoss("meta.tar.xz: \"" + path + "\" is neither a file nor a directory");
    }
    files.push_back(std::move(file));
  }
  if (!has_config) {
    return DataLoss("meta.tar.xz has no \"config\" file (lxc-create needs it)");
  }
  return files;
}

}  // namespace wharf::lxc
