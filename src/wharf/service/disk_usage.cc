#include "wharf/service/disk_usage.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace wharf::service {

namespace {

// Bytes of the files in `dir` (not recursive); 0 when it cannot be read.
int64_t FilesBytes(const std::filesystem::path& dir) {
  int64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      auto size = it->file_size(size_ec);
      if (!size_ec) total += static_cast<int64_t>(size);
    }
  }
  return total;
}

}  // namespace

Result<DiskUsage> MeasureDiskUsage(LocalImages& local) {
  WHARF_ASSIGN_OR_RETURN(auto records, local.All());
  content::BlobStore& store = local.store();
  std::map<std::string, int> users;  // digest → image records that need it
  for (const auto& image : *records) {
    for (const auto& d : std::set<std::string>(image.blobs.begin(), image.blobs.end())) {
      ++users[d];
    }
  }
  std::map<std::string, int64_t> sizes;
  DiskUsage usage;
  for (const Digest& d : store.List()) {
    auto size = store.Size(d);
    if (!size) continue;  // deleted meanwhile
    sizes[d.str()] = *size;
    usage.total_bytes += *size;
    auto it = users.find(d.str());
    if (it == users.end()) {
      usage.unreferenced_bytes += *size;
    } else if (it->second > 1) {
      usage.shared_bytes += *size;
    }
  }
  for (const auto& image : *records) {
    ImageUsage u{image.type, image.display_name, image.tag, 0, image.size};
    for (const auto& d : std::set<std::string>(image.blobs.begin(), image.blobs.end())) {
      auto size = sizes.find(d);
      if (size == sizes.end()) continue;  // missing: fsck's business
      u.stored_bytes += size->second;
      (users[d] > 1 ? u.shared_bytes : u.unique_bytes) += size->second;
    }
    usage.unique_bytes += u.unique_bytes;
    usage.images.push_back(std::move(u));
  }
  std::ranges::sort(usage.images, [](const ImageUsage& a, const ImageUsage& b) {
    return std::tie(a.name, a.tag, a.type) < std::tie(b.name, b.tag, b.type);
  });
  usage.partial_bytes = FilesBytes(store.root() / "ingest");
  return usage;
}

}  // namespace wharf::service
