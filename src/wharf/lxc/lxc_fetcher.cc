#include "wharf/lxc/lxc_fetcher.h"

#include <spdlog/spdlog.h>

#include "wharf/lxc/archive_scan.h"

namespace wharf::lxc {

namespace {

std::string FileName(const ResolvedFile& file) {
  return file.role == "meta" ? "meta.tar.xz" : "rootfs.tar.xz";
}

// Hands a completed download to lxc-create's cache; an image without meta.tar.xz (whose
// config lxc-create needs) is not placed, with a warning.
Result<void> PlaceInCache(LxcCache& cache, const metadata::JobRecord& job, const LxcImageInfo& info,
                          const std::filesystem::path& rootfs, bool has_meta,
                          const std::vector<MetaFile>& meta_files) {
  if (!has_meta) {
    spdlog::warn(
        "lxc {}:{} not placed in the LXC cache: its source has no meta.tar.xz, "
        "whose config lxc-create needs",
        job.name, job.tag);
    return {};
  }
  if (auto s = cache.Place(*info.cache_key, rootfs, meta_files, info.serial); !s) {
    return Fail(s.error().code, "cannot place the image in the LXC cache: " + s.error().message);
  }
  return {};
}

}  // namespace

LxcFetcher::LxcFetcher(LxcFetcherOptions options, content::BlobStore& store,
                       registry::HttpGetter& web, pull::BlobPins& pins, LxcCache& cache,
                       CatalogSource catalog)
    : options_(options),
      store_(store),
      web_(web),
      pins_(pins),
      cache_(cache),
      catalog_(std::move(catalog)),
      resolver_({options.request_tries, options.stall_timeout_s}, web) {}

Result<void> LxcFetcher::FetchFile(const ResolvedFile& file, const Digest& digest, int64_t cap,
                                   pull::JobProgress& progress, size_t index) {
  auto add = [&](int64_t n) { progress.AddBytes(index, n); };
  auto ingest = store_.StartIngest(digest, file.size);
  if (!ingest) return Error(ingest.error());
  if (*ingest == nullptr) {  // already complete in the store
    add(store_.Size(digest).value_or(0));
    return {};
  }
  content::Ingest& in = **ingest;
  const std::string name = FileName(file);
  int64_t counted = in.offset();
  add(counted);
  auto uncount = [&] {
    add(-counted);
    counted = 0;
  };
  registry::BlobSink sink = [&](const char* data, size_t n) -> Result<void> {
    if (progress.cancel) return Cancelled("download stopped");
    int64_t after = in.offset() + static_cast<int64_t>(n);
    if (file.size >= 0 && after > file.size) {
      return DataLoss(name + " from " + file.url + " is larger than the " +
                      std::to_string(file.size) + " bytes the index gives");
    }
    if (file.size < 0 && after > cap) {
      return TooLarge(name + " from " + file.url + " is larger than " + std::to_string(cap) +
                      " bytes");
    }
    WHARF_RETURN_IF_ERROR(in.Write(data, n));
    counted += static_cast<int64_t>(n);
    add(static_cast<int64_t>(n));
    return {};
  };
  // Transient failures are tried again inside the client, which continues a cut transfer
  // with a Range. What is left here: a server that ignores Range (Python's http.server)
  // makes the file start over.
  for (int restarts = 0; !in.whole(); ++restarts) {
    registry::HttpGetRequest request;
    request.url = file.url;
    request.stall_timeout_s = options_.stall_timeout_s;
    request.offset = in.offset();
    request.request_tries = options_.request_tries;
    request.cancelled = [&] { return progress.cancel.load(); };
    auto response = web_.Stream(request, sink);
    bool ignored_range = response && !response->range_honoured;
    if (ignored_range && restarts < 3) {
      WHARF_RETURN_IF_ERROR(in.Restart());
      uncount();
      continue;
    }
    if (response && response->status >= 200 && response->status < 300) break;
    Status error =
        response ? registry::AnswerError(*response, "GET " + file.url) : response.error();
    if (error.code == Code::kDataLoss || error.code == Code::kTooLarge) in.Abort();
    if (progress.cancel && error.code == Code::kCancelled) uncount();
    return Error(error);
  }
  if (auto s = in.Commit(); !s) {
    return Fail(s.error().code, name + " from " + file.url + ": " + s.error().message);
  }
  return {};
}

Result<void> LxcFetcher::Fetch(const metadata::JobRecord& job, pull::JobProgress& progress,
                               const pull::CommitFn& commit) {
  auto catalog = catalog_ ? catalog_() : nullptr;
  const depot::CatalogEntry* entry = catalog ? catalog->Find("lxc", job.name) : nullptr;
  if (entry == nullptr || !entry->source) {
    return NotFound("Image not found: " + job.name + " (the appcenter catalog does not list it)");
  }
  WHARF_ASSIGN_OR_RETURN(auto resolved, resolver_.Resolve(*entry, job.tag));
  WHARF_ASSIGN_OR_RETURN(auto rootfs_digest, Digest::FromHex(resolved.rootfs.sha256));
  std::optional<Digest> meta_digest;
  std::vector<std::string> blobs = {rootfs_digest.str()};
  if (resolved.meta) {
    WHARF_ASSIGN_OR_RETURN(auto d, Digest::FromHex(resolved.meta->sha256));
    meta_digest = d;
    blobs.push_back(d.str());
  }
  pull::BlobPins::Lease lease = pins_.Pin(blobs);
  progress.bytes_done = 0;
  progress.bytes_total = -1;
  spdlog::info("lxc {}:{} is build {} of {} {}", job.name, job.tag, resolved.serial,
               resolved.protocol, resolved.server.empty() ? resolved.rootfs.url : resolved.server);

  // meta.tar.xz first: it is small, and an image without "config" is refused before the
  // rootfs is fetched.
  std::vector<std::pair<std::string, int64_t>> files;  // per-file progress, in fetch order
  if (meta_digest) files.emplace_back(meta_digest->str(), resolved.meta->size);
  files.emplace_back(rootfs_digest.str(), resolved.rootfs.size);
  progress.SetLayers(files);
  std::vector<MetaFile> meta_files;
  int64_t meta_size = 0;
  if (meta_digest) {
    WHARF_RETURN_IF_ERROR(
        FetchFile(*resolved.meta, *meta_digest, options_.max_meta_bytes, progress, 0));
    WHARF_ASSIGN_OR_RETURN(auto files, ReadMeta(store_.BlobPath(*meta_digest)));
    meta_files = std::move(files);
    meta_size = store_.Size(*meta_digest).value_or(0);
  }
  if (resolved.rootfs.size >= 0) progress.bytes_total = meta_size + resolved.rootfs.size;
  WHARF_RETURN_IF_ERROR(FetchFile(resolved.rootfs, rootfs_digest, options_.max_rootfs_bytes,
                                  progress, files.size() - 1));
  if (progress.cancel) return Cancelled("download stopped");
  int64_t rootfs_size = store_.Size(rootfs_digest).value_or(0);
  progress.bytes_total = meta_size + rootfs_size;
  WHARF_ASSIGN_OR_RETURN(auto summary, ScanRootfs(store_.BlobPath(rootfs_digest)));

  LxcImageInfo info;
  info.serial = resolved.serial;
  info.protocol = resolved.protocol;
  info.server = resolved.server;
  info.files.push_back({"rootfs", rootfs_digest.str(), rootfs_size, resolved.rootfs.url});
  if (meta_digest) {
    info.files.push_back({"meta", meta_digest->str(), meta_size, resolved.meta->url});
  }
  info.cache_key = resolved.cache_key;

  if (cache_.enabled() && info.cache_key) {
    WHARF_RETURN_IF_ERROR(PlaceInCache(cache_, job, info, store_.BlobPath(rootfs_digest),
                                       meta_digest.has_value(), meta_files));
  }

  metadata::ImageRecord image;
  image.architecture = resolved.architecture;
  image.os = "linux";
  image.size = summary.unpacked_size;
  image.blobs = std::move(blobs);
  image.extra = info.ToJson();
  return commit(image);
}

}  // namespace wharf::lxc
