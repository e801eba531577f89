// Turns a catalog LXC entry and a tag into the files of one build, by reading the image
// server's index over HTTP: simplestreams (index.json → products file → root.tar.xz item, plus
// meta.tar.xz from the SHA256SUMS of the same directory), lxc-download (meta/1.0/index-system
// → rootfs.tar.xz and meta.tar.xz from the SHA256SUMS of the build's directory), or the fixed
// files of a "url" source; rootfs.tar.zst where SHA256SUMS lists it instead of rootfs.tar.xz.
// Every file comes with its sha256 (unless require_sha256sums allows a server without
// SHA256SUMS); sizes when the index gives them. A simplestreams server without LXC's
// meta.tar.xz (made for Incus or LXD alone) is NotFound saying so.
// Thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "wharf/base/status.h"
#include "wharf/depot/catalog.h"
#include "wharf/lxc/lxc_image.h"
#include "wharf/lxc/remote_image.h"
#include "wharf/registry/http_getter.h"

namespace wharf::lxc {

struct ResolvedFile {
  std::string role;  // "rootfs" or "meta"
  std::string url;
  std::string sha256;  // lowercase hex; "" when unknown (a server without SHA256SUMS, allowed)
  int64_t size = -1;   // -1 when unknown
};

struct ResolvedImage {
  std::string serial;  // the build; for "url" sources "sha256-" + 12 hex of the rootfs
  std::string protocol;
  std::string server;
  std::string architecture;  // Debian name
  ResolvedFile rootfs;
  std::optional<ResolvedFile> meta;   // always for servers; optional for "url"
  std::optional<CacheKey> cache_key;  // where lxc-create looks for it, if known
};

struct ResolverOptions {
  int request_tries = 3;     // tries per index request while it fails transiently (HttpGetter)
  int stall_timeout_s = 30;  // no byte for this long: the request fails
  // [lxc] require_sha256sums: an lxc-download build without SHA256SUMS is NotFound (with how
  // to make one) unless this or its catalog entry's require_sha256sums is false; its files
  // then come with no sha256.
  bool require_sha256sums = true;
};

class SourceResolver {
 public:
  SourceResolver(ResolverOptions options, registry::HttpGetter& web);

  // The build `tag` names ("latest" = the newest) of `entry`'s source. NotFound when the
  // server has no such image or build or a file is missing (404), naming the URL; Unavailable
  // when the server fails; InvalidArgument/DataLoss for a malformed or unsafe index.
  Result<ResolvedImage> Resolve(const depot::CatalogEntry& entry, const std::string& tag);

 private:
  Result<std::string> GetText(const std::string& url, size_t max_bytes);
  Result<std::map<std::string, std::string>> GetSums(const std::string& server,
                                                     const std::string& dir);
  Result<ResolvedImage> Simplestreams(const depot::LxcSource& source, const ImageQuery& query);
  Result<ResolvedImage> LxcDownload(const depot::LxcSource& source, const ImageQuery& query);

  ResolverOptions options_;
  registry::HttpGetter& web_;
};

}  // namespace wharf::lxc
