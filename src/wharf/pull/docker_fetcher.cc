#include "wharf/pull/docker_fetcher.h"

#include <fcntl.h>
#include <unistd.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "wharf/content/layer_digester.h"
#include "wharf/oci/image_checks.h"
#include "wharf/reference/reference.h"
#include "wharf/registry/manifest_resolver.h"

namespace wharf::pull {

namespace {

using content::LayerDigester;

// Stops every layer of a job as soon as one fails or the queue shuts down.
struct JobStop {
  JobProgress& progress;
  std::atomic<bool> failed{false};
  bool stop() const { return failed.load() || progress.cancel.load(); }
};

// diff_id and size of a layer that is already complete in the store, read back from disk.
Result<LayerDigester::Output> DigestStoredLayer(const content::BlobStore& store,
                                                const oci::Descriptor& layer,
                                                oci::Compression compression,
                                                const content::UnpackLimits& limits = {}) {
  auto path = store.BlobPath(layer.digest);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open " + path.string(), errno);
  LayerDigester digester(compression, limits, "layer " + layer.digest.str());
  std::string buf(1 << 20, '\0');
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return ErrnoError("read " + path.string(), err);
    }
    if (n == 0) break;
    if (auto s = digester.Update(buf.data(), static_cast<size_t>(n)); !s) {
      ::close(fd);
      return Error(s.error());
    }
  }
  ::close(fd);
  return digester.Finish();
}

}  // namespace

std::optional<LayerDigester::Output> LayerDigestMemo::Find(const Digest& blob) const {
  std::lock_guard lock(mu_);
  auto it = outputs_.find(blob.str());
  if (it == outputs_.end()) return std::nullopt;
  return it->second;
}

void LayerDigestMemo::Remember(const Digest& blob, const LayerDigester::Output& output) {
  std::lock_guard lock(mu_);
  if (outputs_.size() >= kLimit) outputs_.clear();
  outputs_.insert_or_assign(blob.str(), output);
}

DockerFetcher::DockerFetcher(DockerFetcherOptions options, content::BlobStore& store,
                             registry::Client& client, BlobPins& pins)
    : options_(std::move(options)), store_(store), client_(client), pins_(pins) {}

namespace {

struct LayerJob {
  const DockerFetcherOptions& options;
  content::BlobStore& store;
  registry::Client& client;
  const reference::Reference& ref;
  JobStop& stop;
  LayerDigestMemo& digests;

  // The diff_id of a layer complete in the store: remembered, or read back from disk.
  Result<LayerDigester::Output> Stored(const oci::Descriptor& layer, oci::Compression compression,
                                       const content::UnpackLimits& limits) {
    if (auto known = digests.Find(layer.digest)) return *known;
    WHARF_ASSIGN_OR_RETURN(auto output, DigestStoredLayer(store, layer, compression, limits));
    digests.Remember(layer.digest, output);
    return output;
  }

  // Fetches layer number `index` into the store (resuming a partial one) and returns its
  // diff_id. Its bytes count in the job's total and in the layer's own progress.
  Result<LayerDigester::Output> Run(const oci::Descriptor& layer, size_t index) {
    auto add = [&](int64_t n) { stop.progress.AddBytes(index, n); };
    WHARF_ASSIGN_OR_RETURN(auto compression, oci::LayerCompression(layer.media_type));
    content::UnpackLimits limits = options.unpack;
    limits.cancelled = [this] { return stop.stop(); };  // polled inside a long inflate
    auto ingest = store.StartIngest(layer.digest, layer.size);
    if (!ingest) return Error(ingest.error());
    if (*ingest == nullptr) {  // already complete in the store
      add(layer.size);
      return Stored(layer, compression, limits);
    }
    content::Ingest& in = **ingest;
    // The digester must see every byte from 0; bytes resumed from a partial file were not
    // seen, so then the diff_id is computed from the committed blob instead.
    bool resumed = in.offset() > 0;
    const std::string what = "layer " + layer.digest.str();
    std::optional<LayerDigester> digester(std::in_place, compression, limits, what);
    int64_t counted = in.offset();
    add(counted);
    auto uncount = [&] {
      add(-counted);
      counted = 0;
    };
    // A layer that does not unpack is reported only once its digest has been checked: bytes
    // changed on the way fail the digest (the cause), not the decompression (a symptom).
    std::optional<Status> unpack_error;
    registry::BlobSink sink = [&](const char* data, size_t n) -> Result<void> {
      if (stop.stop()) return Cancelled("download stopped");
      WHARF_RETURN_IF_ERROR(in.Write(data, n));
      if (!resumed && !unpack_error) {
        if (auto digested = digester->Update(data, n); !digested) {
          // A limit passed (or a stop) ends the download now; only corruption waits for the
          // digest to name its cause.
          if (digested.error().code != Code::kDataLoss) return Error(digested.error());
          unpack_error = digested.error();
        }
      }
      counted += static_cast<int64_t>(n);
      add(static_cast<int64_t>(n));
      return {};
    };
    // Transient failures are retried inside FetchBlob (backoff, Retry-After, continuing a cut
    // transfer with a Range from the bytes the sink took), as for every registry request.
    // What is left here: a server that ignores the Range makes the blob start over.
    registry::BlobFetch fetch{.offset = 0, .cancelled = [this] { return stop.stop(); }};
    for (int restarts = 0;; ++restarts) {
      fetch.offset = in.offset();
      // A partial file that holds the whole blob (checked when the ingest opened it) needs
      // no request; a Range from its end would be answered 416.
      if (fetch.offset > 0 && in.whole()) break;
      auto fetched = client.FetchBlob(ref, layer.digest, fetch, sink);
      if (!fetched) {
        if (stop.stop() && fetched.error().code == Code::kCancelled) uncount();
        if (fetched.error().code == Code::kTooLarge) in.Abort();  // a bomb: nothing kept
        return Error(fetched.error());
      }
      if (fetched->range_honoured) break;
      if (restarts >= options.range_restarts) {
        return Unavailable("blob " + layer.digest.str() + " of " + ref.Name() +
                           ": the registry keeps ignoring Range requests after cut transfers");
      }
      // Start the blob over, digesting inline again.
      WHARF_RETURN_IF_ERROR(in.Restart());
      uncount();
      resumed = false;
      unpack_error.reset();
      digester.emplace(compression, limits, what);
    }
    // Checks the size and the digest; the name is synced once per image, before its record.
    WHARF_RETURN_IF_ERROR(in.Commit(content::NameSync::kLater));
    if (unpack_error) {
      return DataLoss("layer " + layer.digest.str() + ": " + unpack_error->message);
    }
    if (resumed) return Stored(layer, compression, limits);
    WHARF_ASSIGN_OR_RETURN(auto output, digester->Finish());
    digests.Remember(layer.digest, output);
    return output;
  }
};

// Fetches every layer, `parallelism` at a time. Their outputs in the manifest's order, or
// the first error (Cancelled only when nothing else failed, or the job was cancelled).
Result<std::vector<LayerDigester::Output>> FetchLayers(LayerJob& job,
                                                       const std::vector<oci::Descriptor>& layers,
                                                       int parallelism) {
  const size_t n = layers.size();
  std::vector<std::optional<LayerDigester::Output>> outputs(n);
  std::mutex error_mu;
  std::optional<Status> first_error;
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < n && !job.stop.stop();) {
      auto out = job.Run(layers[i], i);
      if (out) {
        outputs[i] = *out;
        continue;
      }
      std::lock_guard lock(error_mu);
      if (!first_error || first_error->code == Code::kCancelled) first_error = out.error();
      job.stop.failed = true;
    }
  };
  size_t threads = std::min<size_t>(n, static_cast<size_t>(std::max(1, parallelism)));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (job.stop.progress.cancel) return Cancelled("download stopped");
  if (first_error) return Error(*first_error);
  // Stopped from outside the layers (the config failed): the caller has that error.
  if (job.stop.failed) return Cancelled("download stopped");
  std::vector<LayerDigester::Output> done;
  for (auto& out : outputs) done.push_back(std::move(*out));
  return done;
}

// The image's config, read from the store or fetched, parsed and checked against the manifest.
// Runs beside the layers (it is needed only to check their diff_ids), so a failure sets
// `stop.failed` to end them too.
Result<oci::ImageConfig> FetchConfig(content::BlobStore& store, registry::Client& client,
                                     const reference::Reference& ref, const oci::Manifest& manifest,
                                     JobStop& stop) {
  auto fetched = [&]() -> Result<oci::ImageConfig> {
    const Digest& digest = manifest.config.digest;
    WHARF_ASSIGN_OR_RETURN(
        auto body, store.Has(digest) ? store.Read(digest) : client.GetSmallBlob(ref, digest, [&] {
          return stop.stop();
        }));
    WHARF_ASSIGN_OR_RETURN(auto config, oci::ParseConfig(body));
    WHARF_RETURN_IF_ERROR(oci::CheckConfigFits(manifest, config));
    WHARF_RETURN_IF_ERROR(store.Put(digest, body, content::NameSync::kLater));
    stop.progress.bytes_done += manifest.config.size;
    return config;
  }();
  if (!fetched) stop.failed = true;
  return fetched;
}

}  // namespace

Result<void> DockerFetcher::Fetch(const metadata::JobRecord& job, JobProgress& progress,
                                  const CommitFn& commit) {
  WHARF_ASSIGN_OR_RETURN(auto ref, reference::ParseNameAndTag(job.name, job.tag));
  JobStop stop{progress};
  auto resolved =
      registry::ResolveManifest(client_, ref, options_.platform, [&] { return stop.stop(); });
  if (!resolved) return Error(resolved.error());
  const registry::ManifestResponse& chosen = resolved->manifest;
  const oci::Manifest& manifest = resolved->parsed;

  std::vector<std::string> blobs = {chosen.digest.str(), manifest.config.digest.str()};
  int64_t total = manifest.config.size;
  for (const auto& layer : manifest.layers) {
    blobs.push_back(layer.digest.str());
    total += layer.size;
  }
  BlobPins::Lease lease = pins_.Pin(blobs);
  progress.bytes_done = 0;
  progress.bytes_total = total;

  std::vector<std::pair<std::string, int64_t>> layer_sizes;
  for (const auto& layer : manifest.layers) {
    layer_sizes.emplace_back(layer.digest.str(), layer.size);
  }
  progress.SetLayers(layer_sizes);
  LayerJob layer_job{options_, store_, client_, ref, stop, digests_};
  // The config comes beside the layers: one round trip fewer before they start.
  std::optional<Result<oci::ImageConfig>> fetched_config;
  std::thread config_thread(
      [&] { fetched_config.emplace(FetchConfig(store_, client_, ref, manifest, stop)); });
  auto fetched_layers = FetchLayers(layer_job, manifest.layers, options_.layer_parallelism);
  config_thread.join();
  // The error that stopped the other side comes first (the other then says Cancelled).
  if (!*fetched_config && (fetched_config->error().code != Code::kCancelled || fetched_layers)) {
    return Error(fetched_config->error());
  }
  if (!fetched_layers) return Error(fetched_layers.error());
  const oci::ImageConfig& config = **fetched_config;
  const auto& outputs = *fetched_layers;
  const size_t n = manifest.layers.size();

  int64_t size = 0;
  for (size_t i = 0; i < n; ++i) {
    if ((outputs)[i].diff_id != config.diff_ids[i]) {
      return DataLoss("layer " + manifest.layers[i].digest.str() + " unpacks to " +
                      (outputs)[i].diff_id.str() + " but the image config expects " +
                      config.diff_ids[i].str());
    }
    size += (outputs)[i].uncompressed_size;
  }
  WHARF_RETURN_IF_ERROR(store_.Put(chosen.digest, chosen.body, content::NameSync::kLater));
  // Every blob of the image is fsynced; one fsync of blobs/ makes all their names durable
  // (also those of blobs another job placed and this one found present) before the record.
  WHARF_RETURN_IF_ERROR(store_.SyncBlobNames());

  metadata::ImageRecord image;
  image.manifest_digest = chosen.digest.str();
  image.manifest_media_type = manifest.media_type.empty() ? chosen.media_type : manifest.media_type;
  image.manifest_size = static_cast<int64_t>(chosen.body.size());
  image.config_digest = manifest.config.digest.str();
  image.architecture = config.architecture;
  image.os = config.os;
  image.size = size;
  image.blobs = std::move(blobs);
  image.extra = nlohmann::json{{"repo_digest", resolved->digest.str()}}.dump();
  return commit(image);
}

}  // namespace wharf::pull
