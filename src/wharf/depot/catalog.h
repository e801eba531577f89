// The curated catalogs (appcenter ≡ qnap, and official): their JSON format, documented in
// share/catalog/README.md, parsed and validated. A catalog that breaks a rule is rejected as
// a whole, with a message naming the origin, the entry and the problem, so a typo in a
// catalog never half-loads. Pure, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/base/status.h"

namespace wharf::depot {

// Where an LXC entry's root file system comes from.
struct LxcSource {
  std::string protocol;  // "simplestreams", "lxc-download" or "url"
  std::string server;    // base URL (simplestreams, lxc-download)
  std::string os, release, arch, variant;
  std::string rootfs, rootfs_sha256, meta, meta_sha256;  // protocol "url"
  // lxc-download only: false lets a server without SHA256SUMS be used (the files are then
  // checked by nothing but the transport); unset = [lxc] require_sha256sums.
  std::optional<bool> require_sha256sums;
};

struct CatalogEntry {
  std::string name;
  std::string type;  // "lxc" or "docker"
  std::string title;
  std::string version;
  std::string description;
  std::string icon;
  std::string icon_local;
  std::string arch;
  std::optional<std::string> size;      // appcenter: string or null
  bool has_size = false;                // the key is present (appcenter) or absent (official)
  std::optional<std::string> inspect;   // appcenter only
  std::optional<std::string> location;  // official only
  std::optional<LxcSource> source;      // appcenter LXC only
};

struct Catalog {
  std::vector<CatalogEntry> entries;

  // The entry of that type and name, or nullptr.
  const CatalogEntry* Find(std::string_view type, std::string_view name) const;
};

Result<Catalog> ParseCatalog(std::string_view json_text, std::string_view origin);

}  // namespace wharf::depot
