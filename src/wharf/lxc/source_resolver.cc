#include "wharf/lxc/source_resolver.h"

#include "wharf/base/strings.h"
#include "wharf/lxc/arch.h"
#include "wharf/lxc/index_system.h"
#include "wharf/lxc/simplestreams.h"

namespace wharf::lxc {

namespace {

// The same error with the server named in front, so a failed job says where it failed.
Error WithContext(const Status& status, const std::string& context) {
  return Fail(status.code, context + ": " + status.message);
}

std::string Basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "debian-bookworm" → debian/bookworm: the catalog's LXC names are "distro-release".
std::optional<CacheKey> KeyFromName(const std::string& name, const std::string& arch) {
  size_t dash = name.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == name.size()) return std::nullopt;
  CacheKey key{name.substr(0, dash), name.substr(dash + 1), arch, "default"};
  return key.Valid() ? std::optional(key) : std::nullopt;
}

}  // namespace

SourceResolver::SourceResolver(ResolverOptions options, registry::HttpGetter& web)
    : options_(options), web_(web) {}

Result<std::string> SourceResolver::GetText(const std::string& url, size_t max_bytes) {
  registry::HttpGetRequest request;
  request.url = url;
  request.max_body_bytes = max_bytes;
  request.stall_timeout_s = options_.stall_timeout_s;
  request.request_tries = options_.request_tries;  // transient failures: the getter retries
  auto response = web_.Get(request);
  if (!response) return Error(response.error());
  if (response->status >= 200 && response->status < 300) return std::move(response->body);
  return Error(registry::AnswerError(*response, "GET " + url));
}

Result<std::map<std::string, std::string>> SourceResolver::GetSums(const std::string& server,
                                                                   const std::string& dir) {
  WHARF_ASSIGN_OR_RETURN(auto text, GetText(JoinUrl(server, dir + "SHA256SUMS"), 1 << 20));
  return ParseSha256Sums(text);
}

Result<ResolvedImage> SourceResolver::Resolve(const depot::CatalogEntry& entry,
                                              const std::string& tag) {
  if (!entry.source) return NotFound("Image not found: " + entry.name);
  const depot::LxcSource& source = *entry.source;
  if (source.protocol == "url") {
    ResolvedImage image;
    image.protocol = "url";
    image.architecture = DebianArch(entry.arch);
    image.serial = "sha256-" + source.rootfs_sha256.substr(0, 12);
    if (tag != "latest" && tag != image.serial) {
      return NotFound("build " + tag + " of " + entry.name + " is not available (its source has " +
                      "only " + image.serial + ")");
    }
    image.rootfs = {"rootfs", source.rootfs, source.rootfs_sha256, -1};
    if (!source.meta.empty())
      image.meta = ResolvedFile{"meta", source.meta, source.meta_sha256, -1};
    image.cache_key = KeyFromName(entry.name, image.architecture);
    return image;
  }
  ImageQuery query{source.os, source.release, EffectiveArch(source.arch), source.variant,
                   tag == "latest" ? "" : tag};
  auto image = source.protocol == "simplestreams" ? Simplestreams(source, query)
               : source.protocol == "lxc-download"
                   ? LxcDownload(source, query)
                   : Result<ResolvedImage>(InvalidArgument("unknown protocol " + source.protocol));
  if (!image) return WithContext(image.error(), source.protocol + " server " + source.server);
  image->protocol = source.protocol;
  image->server = source.server;
  image->architecture = query.arch;
  image->cache_key = CacheKey{Lower(source.os), source.release, query.arch, source.variant};
  if (!image->cache_key->Valid()) image->cache_key.reset();
  return image;
}

Result<ResolvedImage> SourceResolver::Simplestreams(const depot::LxcSource& source,
                                                    const ImageQuery& query) {
  WHARF_ASSIGN_OR_RETURN(auto index,
                         GetText(JoinUrl(source.server, "streams/v1/index.json"), 4 << 20));
  WHARF_ASSIGN_OR_RETURN(auto paths, ParseStreamsIndex(index));
  Result<SimplestreamsBuild> build = NotFound("no products file");
  for (const auto& path : paths) {
    WHARF_ASSIGN_OR_RETURN(auto products, GetText(JoinUrl(source.server, path), 256 << 20));
    build = FindSimplestreamsBuild(products, query);
    if (build || build.error().code != Code::kNotFound) break;
  }
  if (!build) return Error(build.error());

  ResolvedImage image;
  image.serial = build->serial;
  image.rootfs = {"rootfs", JoinUrl(source.server, build->rootfs.path), build->rootfs.sha256,
                  build->rootfs.size};
  // LXC's meta.tar.xz is no simplestreams item: only SHA256SUMS beside the rootfs names it.
  // A server made for Incus or LXD alone has neither.
  auto sums = GetSums(source.server, build->dir);
  if (!sums && sums.error().code != Code::kNotFound) return Error(sums.error());
  const std::string* meta_sha256 = nullptr;
  if (sums) {
    if (auto it = sums->find("meta.tar.xz"); it != sums->end()) meta_sha256 = &it->second;
  }
  if (meta_sha256 == nullptr) {
    return NotFound("build " + build->serial + " of " + query.Describe() + " has no LXC " +
                    "meta.tar.xz (" +
                    (sums ? "SHA256SUMS in " + build->dir + " does not list it"
                          : "no SHA256SUMS in " + build->dir) +
                    "): an Incus/LXD-only simplestreams server, whose images lxc-create cannot " +
                    "use; point the catalog entry at a server that publishes LXC images");
  }
  auto listed = sums->find(Basename(build->rootfs.path));
  if (listed != sums->end() && listed->second != build->rootfs.sha256) {
    return DataLoss("the index and SHA256SUMS in " + build->dir + " disagree about " +
                    listed->first);
  }
  image.meta =
      ResolvedFile{"meta", JoinUrl(source.server, build->dir + "meta.tar.xz"), *meta_sha256, -1};
  return image;
}

Result<ResolvedImage> SourceResolver::LxcDownload(const depot::LxcSource& source,
                                                  const ImageQuery& query) {
  WHARF_ASSIGN_OR_RETURN(auto index,
                         GetText(JoinUrl(source.server, "meta/1.0/index-system"), 16 << 20));
  WHARF_ASSIGN_OR_RETURN(auto build, FindIndexBuild(index, query));
  ResolvedImage image;
  image.serial = build.serial;
  auto sums = GetSums(source.server, build.dir);
  if (!sums && sums.error().code != Code::kNotFound) return Error(sums.error());
  const bool required = source.require_sha256sums.value_or(options_.require_sha256sums);
  if (!sums && required) {
    return NotFound("build " + build.serial + " has no SHA256SUMS in " + build.dir +
                    ", which lists the sha256 of rootfs.tar.xz and meta.tar.xz: make it there " +
                    "with \"sha256sum rootfs.tar.xz meta.tar.xz > SHA256SUMS\" (lxc-create's " +
                    "download template wants it too), or set \"require_sha256sums\": false in " +
                    "the catalog entry's source to download without it (weaker: then nothing " +
                    "but the transport vouches for the files)");
  }
  // distrobuilder --compression=zstd builds a rootfs.tar.zst instead.
  const bool zstd = sums && !sums->contains("rootfs.tar.xz") && sums->contains("rootfs.tar.zst");
  for (const char* name : {zstd ? "rootfs.tar.zst" : "rootfs.tar.xz", "meta.tar.xz"}) {
    std::string sha256;
    if (sums) {
      auto it = sums->find(name);
      if (it == sums->end()) {
        return NotFound("SHA256SUMS in " + build.dir + " does not list " + name);
      }
      sha256 = it->second;
    }
    ResolvedFile file{name == std::string("meta.tar.xz") ? "meta" : "rootfs",
                      JoinUrl(source.server, build.dir + name), sha256, -1};
    if (file.role == "meta") {
      image.meta = file;
    } else {
      image.rootfs = file;
    }
  }
  return image;
}

}  // namespace wharf::lxc
