// What wharf records about a downloaded LXC image, beyond metadata::ImageRecord's columns: the
// build serial, where it came from, its files, and where lxc-create's cache expects it. Kept
// as JSON in ImageRecord::extra. Pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/metadata/image_store.h"

namespace wharf::lxc {

// cache_dir/DIST/RELEASE/ARCH/VARIANT, as `lxc-create -t download -- -d DIST -r RELEASE -a
// ARCH --variant VARIANT` looks for it.
struct CacheKey {
  std::string dist, release, arch, variant;

  // Each part is a plain directory name: [A-Za-z0-9._:+-], not starting with '.'.
  bool Valid() const;
  std::string RelativePath() const;  // "debian/bookworm/amd64/default"
  friend bool operator==(const CacheKey&, const CacheKey&) = default;
};

struct LxcFile {
  std::string role;    // "rootfs" or "meta"
  std::string digest;  // "sha256:..."
  int64_t size = 0;
  std::string url;
};

struct LxcImageInfo {
  std::string serial;    // the build: "20240101_05:24"
  std::string protocol;  // "simplestreams", "lxc-download", "url"
  std::string server;    // base URL, empty for "url"
  std::vector<LxcFile> files;
  std::optional<CacheKey> cache_key;  // absent when the source names no dist/release

  std::string ToJson() const;
  // nullopt when `extra` is not an LXC record.
  static std::optional<LxcImageInfo> FromJson(const std::string& extra);

  const LxcFile* File(const std::string& role) const;
};

}  // namespace wharf::lxc
