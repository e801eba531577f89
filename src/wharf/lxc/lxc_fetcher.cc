#include "wharf/lxc/lxc_fetcher.h"

#include <spdlog/spdlog.h>

#include "wharf/lxc/archive_scan.h"

namespace wharf::lxc {

namespace {

std::string FileName(const ResolvedFile& file) {
  size_t slash = file.url.rfind('/');
  std::string base = slash == std::string::npos ? file.url : file.url.substr(slash + 1);
  if (base.starts_with(file.role == "meta" ? "meta.tar." : "rootfs.tar.")) return base;
  return file.role == "meta" ? "meta.tar.xz" : "rootfs.tar.xz";
}

// The bound on what one HTTP answer may deliver of a file.
Result<void> CheckSize(const ResolvedFile& file, const std::string& name, int64_t after,
                       int64_t cap) {
  if (file.size >= 0 && after > file.size) {
    return DataLoss(name + " from " + file.url + " is larger than the " +
                    std::to_string(file.size) + " bytes the index gives");
  }
  if (file.size < 0 && after > cap) {
    return TooLarge(name + " from " + file.url + " is larger than " + std::to_string(cap) +
                    " bytes");
  }
  return {};
}

// Hands a completed download to lxc-create's cache; an image without meta.tar.xz (whose
// config lxc-create needs) or with a rootfs.tar.zst (its template reads rootfs.tar.xz with
// tar -J) is not placed, with a warning.
Result<void> PlaceInCache(LxcCache& cache, const metadata::JobRecord& job, const LxcImageInfo& info,
                          const std::filesystem::path& rootfs, const std::string& rootfs_label,
                          bool has_meta, const std::vector<MetaFile>& meta_files) {
  if (rootfs_label != "rootfs.tar.xz") {
    spdlog::warn(
        "lxc {}:{} not placed in the LXC cache: its rootfs is {}, and lxc-create's download "
        "template unpacks only rootfs.tar.xz",
        job.name, job.tag, rootfs_label);
    return {};
  }
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
      resolver_({options.request_tries, options.stall_timeout_s, options.require_sha256sums}, web) {
}

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
    WHARF_RETURN_IF_ERROR(CheckSize(file, name, in.offset() + static_cast<int64_t>(n), cap));
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

Result<Digest> LxcFetcher::FetchUnverified(const ResolvedFile& file, int64_t cap,
                                           pull::JobProgress& progress, size_t index,
                                           pull::BlobPins::Lease& lease) {
  const std::string name = FileName(file);
  for (int restarts = 0;; ++restarts) {
    WHARF_ASSIGN_OR_RETURN(auto upload, store_.StartUpload());
    int64_t counted = 0;
    registry::BlobSink sink = [&](const char* data, size_t n) -> Result<void> {
      if (progress.cancel) return Cancelled("download stopped");
      WHARF_RETURN_IF_ERROR(CheckSize(file, name, upload->size() + static_cast<int64_t>(n), cap));
      WHARF_RETURN_IF_ERROR(upload->Write(data, n));
      counted += static_cast<int64_t>(n);
      progress.AddBytes(index, static_cast<int64_t>(n));
      return {};
    };
    registry::HttpGetRequest request;
    request.url = file.url;
    request.stall_timeout_s = options_.stall_timeout_s;
    request.request_tries = options_.request_tries;
    request.cancelled = [&] { return progress.cancel.load(); };
    auto response = web_.Stream(request, sink);
    if (response && response->status >= 200 && response->status < 300 && response->range_honoured) {
      return upload->Commit(std::nullopt, [&](const Digest& d) { lease.Add({d.str()}); });
    }
    upload->Abort();
    progress.AddBytes(index, -counted);
    if (response && !response->range_honoured && restarts < 3) continue;  // start over
    return Error(response ? registry::AnswerError(*response, "GET " + file.url) : response.error());
  }
}

Result<Digest> LxcFetcher::FetchAny(const ResolvedFile& file, int64_t cap,
                                    pull::JobProgress& progress, size_t index,
                                    pull::BlobPins::Lease& lease) {
  if (file.sha256.empty()) return FetchUnverified(file, cap, progress, index, lease);
  WHARF_ASSIGN_OR_RETURN(auto digest, Digest::FromHex(file.sha256));
  WHARF_RETURN_IF_ERROR(FetchFile(file, digest, cap, progress, index));
  return digest;
}

Result<void> LxcFetcher::Fetch(const metadata::JobRecord& job, pull::JobProgress& progress,
                               const pull::CommitFn& commit) {
  auto catalog = catalog_ ? catalog_() : nullptr;
  const depot::CatalogEntry* entry = catalog ? catalog->Find("lxc", job.name) : nullptr;
  if (entry == nullptr || !entry->source) {
    return NotFound("Image not found: " + job.name + " (the appcenter catalog does not list it)");
  }
  WHARF_ASSIGN_OR_RETURN(auto resolved, resolver_.Resolve(*entry, job.tag));
  std::vector<std::string> known;  // digests given by the index, pinned from the start
  for (const ResolvedFile* f : {&resolved.rootfs, resolved.meta ? &*resolved.meta : nullptr}) {
    if (f == nullptr || f->sha256.empty()) continue;
    WHARF_ASSIGN_OR_RETURN(auto d, Digest::FromHex(f->sha256));
    known.push_back(d.str());
  }
  pull::BlobPins::Lease lease = pins_.Pin(known);
  progress.bytes_done = 0;
  progress.bytes_total = -1;
  spdlog::info("lxc {}:{} is build {} of {} {}{}", job.name, job.tag, resolved.serial,
               resolved.protocol, resolved.server.empty() ? resolved.rootfs.url : resolved.server,
               resolved.rootfs.sha256.empty() ? " (no SHA256SUMS: files unverified)" : "");

  // meta.tar.xz first: it is small, and an image without "config" is refused before the
  // rootfs is fetched. Per-file progress in fetch order, by digest (by URL while unknown).
  auto key = [](const ResolvedFile& f) { return f.sha256.empty() ? f.url : "sha256:" + f.sha256; };
  std::vector<std::pair<std::string, int64_t>> files;
  if (resolved.meta) files.emplace_back(key(*resolved.meta), resolved.meta->size);
  files.emplace_back(key(resolved.rootfs), resolved.rootfs.size);
  progress.SetLayers(files);
  std::vector<MetaFile> meta_files;
  std::optional<Digest> meta_digest;
  int64_t meta_size = 0;
  if (resolved.meta) {
    WHARF_ASSIGN_OR_RETURN(meta_digest,
                           FetchAny(*resolved.meta, options_.max_meta_bytes, progress, 0, lease));
    WHARF_ASSIGN_OR_RETURN(meta_files, ReadMeta(store_.BlobPath(*meta_digest)));
    meta_size = store_.Size(*meta_digest).value_or(0);
  }
  if (resolved.rootfs.size >= 0) progress.bytes_total = meta_size + resolved.rootfs.size;
  WHARF_ASSIGN_OR_RETURN(auto rootfs_digest, FetchAny(resolved.rootfs, options_.max_rootfs_bytes,
                                                      progress, files.size() - 1, lease));
  if (progress.cancel) return Cancelled("download stopped");
  int64_t rootfs_size = store_.Size(rootfs_digest).value_or(0);
  progress.bytes_total = meta_size + rootfs_size;
  ScanOptions scan{options_.unpack, options_.allow_special_files};
  scan.limits.cancelled = [&] { return progress.cancel.load(); };
  WHARF_ASSIGN_OR_RETURN(auto summary, ScanRootfs(store_.BlobPath(rootfs_digest), scan));
  return Record(job, resolved, summary, rootfs_digest, meta_digest, meta_files, commit);
}

Result<void> LxcFetcher::Record(const metadata::JobRecord& job, const ResolvedImage& resolved,
                                const RootfsSummary& summary, const Digest& rootfs_digest,
                                const std::optional<Digest>& meta_digest,
                                const std::vector<MetaFile>& meta_files,
                                const pull::CommitFn& commit) {
  LxcImageInfo info;
  info.serial = resolved.serial;
  info.protocol = resolved.protocol;
  info.server = resolved.server;
  int64_t rootfs_size = store_.Size(rootfs_digest).value_or(0);
  info.files.push_back({"rootfs", rootfs_digest.str(), rootfs_size, resolved.rootfs.url});
  std::vector<std::string> blobs = {rootfs_digest.str()};
  if (meta_digest) {
    info.files.push_back(
        {"meta", meta_digest->str(), store_.Size(*meta_digest).value_or(0), resolved.meta->url});
    blobs.push_back(meta_digest->str());
  }
  info.cache_key = resolved.cache_key;

  if (cache_.enabled() && info.cache_key) {
    WHARF_RETURN_IF_ERROR(PlaceInCache(cache_, job, info, store_.BlobPath(rootfs_digest),
                                       summary.label, meta_digest.has_value(), meta_files));
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
