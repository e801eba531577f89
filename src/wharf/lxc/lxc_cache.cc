#include "wharf/lxc/lxc_cache.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "wharf/base/file_util.h"
#include "wharf/base/unique_fd.h"

namespace wharf::lxc {

namespace fs = std::filesystem;

namespace {

Result<void> FsyncFile(const UniqueFd& fd, const fs::path& path) {
  if (::fsync(fd.get()) != 0) return ErrnoError("fsync " + path.string(), errno);
  return {};
}

Result<void> WriteNewFile(const fs::path& path, std::string_view data, unsigned mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return ErrnoError("create " + path.string(), errno);
  if (int err = WriteAll(fd.get(), data); err != 0) {
    return ErrnoError("write " + path.string(), err);
  }
  if (::fchmod(fd.get(), mode) != 0) return ErrnoError("chmod " + path.string(), errno);
  return FsyncFile(fd, path);
}

// A hard link shares the blob's bytes; across file systems the rootfs is copied.
Result<void> LinkOrCopy(const fs::path& from, const fs::path& to) {
  if (::link(from.c_str(), to.c_str()) == 0) return {};
  if (errno != EXDEV && errno != EPERM && errno != EMLINK) {
    return ErrnoError("link " + from.string() + " to " + to.string(), errno);
  }
  std::error_code ec;
  fs::copy_file(from, to, ec);
  if (ec) return Internal("copy " + from.string() + " to " + to.string() + ": " + ec.message());
  UniqueFd fd(::open(to.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoError("open " + to.string(), errno);
  ::fchmod(fd.get(), 0644);
  return FsyncFile(fd, to);
}

// Puts the directory `tmp` at `target` in one step, replacing what was there.
Result<void> SwapIn(const fs::path& tmp, const fs::path& target) {
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0) {
    return {};
  }
  if (errno == EEXIST &&
      ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
    std::error_code ec;
    fs::remove_all(tmp, ec);  // now the old copy
    return {};
  }
  if (errno != EINVAL && errno != ENOSYS && errno != EEXIST) {
    return ErrnoError("rename " + tmp.string() + " to " + target.string(), errno);
  }
  // A file system without renameat2 flags: move the old copy aside first.
  fs::path old = TempPathFor(target);
  std::error_code ec;
  if (fs::exists(target, ec) && ::rename(target.c_str(), old.c_str()) != 0) {
    return ErrnoError("rename " + target.string(), errno);
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    return ErrnoError("rename " + tmp.string() + " to " + target.string(), errno);
  }
  fs::remove_all(old, ec);
  return {};
}

Result<void> FillDirectory(const fs::path& dir, const fs::path& rootfs,
                           const std::vector<MetaFile>& meta, const std::string& build_id) {
  WHARF_RETURN_IF_ERROR(LinkOrCopy(rootfs, dir / "rootfs.tar.xz"));
  for (const auto& file : meta) {
    if (!IsSafeEntryPath(file.path)) return InvalidArgument("unsafe meta path " + file.path);
    fs::path path = dir / file.path;
    if (file.is_dir) {
      WHARF_RETURN_IF_ERROR(MakeDirs(path));
      continue;
    }
    WHARF_RETURN_IF_ERROR(MakeDirs(path.parent_path()));
    WHARF_RETURN_IF_ERROR(WriteNewFile(path, file.data, file.mode));
  }
  // The template compares $(cat build_id) with the index's build: one line.
  std::error_code ec;
  fs::remove(dir / "build_id", ec);
  WHARF_RETURN_IF_ERROR(WriteNewFile(dir / "build_id", build_id + "\n", 0644));
  return FsyncDir(dir);
}

}  // namespace

LxcCache::LxcCache(fs::path root) : root_(std::move(root)) {}

Result<void> LxcCache::Place(const CacheKey& key, const fs::path& rootfs,
                             const std::vector<MetaFile>& meta, const std::string& build_id) {
  if (!enabled()) return {};
  if (!key.Valid()) return InvalidArgument("cannot cache under \"" + key.RelativePath() + "\"");
  std::lock_guard lock(mu_);
  fs::path target = root_ / key.RelativePath();
  WHARF_RETURN_IF_ERROR(MakeDirs(target.parent_path()));
  fs::path tmp = TempPathFor(target);
  if (::mkdir(tmp.c_str(), 0755) != 0) return ErrnoError("mkdir " + tmp.string(), errno);
  auto filled = FillDirectory(tmp, rootfs, meta, build_id);
  if (filled) filled = SwapIn(tmp, target);
  if (!filled) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    return Error(filled.error());
  }
  return FsyncDir(target.parent_path());
}

std::optional<std::string> LxcCache::BuildId(const CacheKey& key) const {
  if (!enabled() || !key.Valid()) return std::nullopt;
  auto text = ReadFile(root_ / key.RelativePath() / "build_id", 4096);
  if (!text) return std::nullopt;
  std::string id = *text;
  while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
  return id;
}

Result<bool> LxcCache::Remove(const CacheKey& key, const std::string& build_id) {
  if (!enabled() || !key.Valid()) return false;
  std::lock_guard lock(mu_);
  if (BuildId(key) != build_id) return false;
  fs::path target = root_ / key.RelativePath();
  // Renamed away first, so the template never sees a half-deleted directory.
  fs::path doomed = TempPathFor(target);
  if (::rename(target.c_str(), doomed.c_str()) != 0) {
    return ErrnoError("rename " + target.string(), errno);
  }
  std::error_code ec;
  fs::remove_all(doomed, ec);
  if (ec) return Internal("remove " + doomed.string() + ": " + ec.message());
  return true;
}

void LxcCache::Forget(const std::vector<metadata::ImageRecord>& deleted,
                      const std::vector<metadata::ImageRecord>& remaining,
                      const content::BlobStore& store) {
  if (!enabled()) return;
  for (const auto& image : deleted) {
    auto info = LxcImageInfo::FromJson(image.extra);
    if (image.type != "lxc" || !info || !info->cache_key) continue;
    const CacheKey& key = *info->cache_key;
    auto removed = Remove(key, info->serial);
    if (!removed) {
      spdlog::warn("cannot remove {} from the LXC cache: {}", key.RelativePath(),
                   removed.error().message);
      continue;
    }
    if (!*removed) continue;  // the cache holds another build: leave it
    spdlog::info("removed {} (build {}) from the LXC cache", key.RelativePath(), info->serial);

    const metadata::ImageRecord* newest = nullptr;
    std::optional<LxcImageInfo> newest_info;
    for (const auto& other : remaining) {
      auto other_info = LxcImageInfo::FromJson(other.extra);
      if (other.type != "lxc" || !other_info || other_info->cache_key != key) continue;
      if (newest == nullptr || other.created_at > newest->created_at) {
        newest = &other;
        newest_info = other_info;
      }
    }
    if (newest == nullptr) continue;
    const LxcFile* rootfs = newest_info->File("rootfs");
    const LxcFile* meta = newest_info->File("meta");
    auto rootfs_digest = Digest::Parse(rootfs ? rootfs->digest : "");
    if (!rootfs_digest) continue;
    std::vector<MetaFile> meta_files;
    if (meta != nullptr) {
      auto meta_digest = Digest::Parse(meta->digest);
      auto files = meta_digest ? ReadMeta(store.BlobPath(*meta_digest))
                               : Result<std::vector<MetaFile>>(Error(meta_digest.error()));
      if (!files) {
        spdlog::warn("cannot put {}:{} back in the LXC cache: {}", newest->name, newest->tag,
                     files.error().message);
        continue;
      }
      meta_files = std::move(*files);
    }
    if (auto s = Place(key, store.BlobPath(*rootfs_digest), meta_files, newest_info->serial); !s) {
      spdlog::warn("cannot put {}:{} back in the LXC cache: {}", newest->name, newest->tag,
                   s.error().message);
    }
  }
}

}  // namespace wharf::lxc
