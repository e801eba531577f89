#include "wharf/service/collector.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <set>

#include "wharf/base/log_text.h"

namespace wharf::service {

Collector::Collector(content::BlobStore& store, metadata::ImageStore& images, pull::BlobPins& pins,
                     LocalImages& local, pull::ImageChanges& changes, pull::EventBus* events,
                     lxc::LxcCache* lxc_cache)
    : store_(store),
      images_(images),
      pins_(pins),
      local_(local),
      changes_(changes),
      events_(events),
      lxc_cache_(lxc_cache) {}

Result<std::vector<metadata::ImageRecord>> Collector::Remove(const std::string& type,
                                                             const std::string& name,
                                                             const std::string& tag,
                                                             const std::string& shown) {
  auto deleted = images_.Delete(type, name, tag);
  changes_.Count();  // also on failure: the transaction may have committed
  if (!deleted) return Error(deleted.error());
  if (deleted->empty()) return NotFound("Image not found: " + shown);
  for (const auto& image : *deleted) {
    spdlog::info("deleted {}:{}", LogSafe(image.display_name), LogSafe(image.tag));
    if (events_ != nullptr) {
      events_->Publish("image", nlohmann::json{{"action", "removed"},
                                               {"type", image.type},
                                               {"name", image.display_name},
                                               {"tag", image.tag}}
                                    .dump());
    }
  }
  if (type == "lxc" && lxc_cache_ != nullptr) {
    auto remaining = images_.List();
    if (remaining) {
      lxc_cache_->Forget(*deleted, *remaining, store_);
    } else {
      spdlog::warn("LXC cache not updated: {}", remaining.error().message);
    }
  }
  CollectGarbage();
  WHARF_RETURN_IF_ERROR(RefreshLayoutIndex());
  return std::move(*deleted);
}

void Collector::OnJobEnded(bool committed, bool replaced) {
  // A commit is already counted by the queue; a failed one is counted too, since a commit
  // that reported an error may still have reached the database.
  if (!committed) changes_.Count();
  if (committed) {
    if (auto s = RefreshLayoutIndex(); !s) {
      spdlog::error("cannot rewrite index.json: {}", s.error().message);
    }
  }
  // After a commit only when it replaced an image (a new build under "latest" frees the old
  // one's blobs): any other commit's blobs are its image's. Scanning every blob after each
  // download made a long series of them quadratic.
  if (!committed || replaced || !swept_.load()) CollectGarbage();
}

Result<void> Collector::RefreshLayoutIndex() {
  // Every change moves the version before its caller gets here.
  const uint64_t wanted = changes_.version();
  std::lock_guard lock(index_mu_);
  // A rewrite that began after this caller's change read it: three downloads ending at once
  // write the file once or twice, not three times.
  if (index_written_ && index_version_ >= wanted) return {};
  const uint64_t version = changes_.version();
  auto images = local_.All();
  if (!images) return Error(images.error());
  std::vector<content::BlobStore::IndexEntry> entries;
  for (const auto& image : **images) {
    if (image.type != "docker") continue;
    auto digest = Digest::Parse(image.manifest_digest);
    if (!digest) continue;
    entries.push_back({*digest, image.manifest_media_type, image.manifest_size,
                       image.display_name + ":" + image.tag, image.name + ":" + image.tag});
  }
  WHARF_RETURN_IF_ERROR(store_.WriteIndex(entries));
  index_version_ = version;
  index_written_ = true;
  return {};
}

void Collector::CollectGarbage() {
  swept_ = true;
  pins_.Collect([&](const std::set<std::string>& pinned) {
    auto referenced = images_.ReferencedBlobs();
    if (!referenced) {
      spdlog::error("garbage collection skipped: {}", referenced.error().message);
      return;
    }
    std::set<Digest> keep;
    for (const auto& d : pinned) {
      if (auto digest = Digest::Parse(d)) keep.insert(*digest);
    }
    int removed = 0;
    for (const auto& digest : store_.List()) {
      if (keep.contains(digest) || referenced->contains(digest.str())) continue;
      if (auto s = store_.Delete(digest, content::NameSync::kLater); !s) {
        spdlog::warn("cannot delete blob {}: {}", digest.str(), s.error().message);
      } else {
        ++removed;
      }
    }
    if (auto s = store_.SyncBlobNames(); !s) spdlog::warn("{}", s.error().message);
    store_.RemovePartials(keep);
    if (removed > 0) spdlog::info("garbage collection removed {} blobs", removed);
  });
}

}  // namespace wharf::service
