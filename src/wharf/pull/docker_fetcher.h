// Fetches a Docker/OCI image from its registry into the content store:
// resolve the tag (an index is narrowed to the wanted platform) → pin every blob → fetch the
// config and the layers in parallel, each streamed into a resumable ingest that hashes as it
// writes while a LayerDigester computes the diff_id → verify digests, sizes and diff_ids →
// store the manifest → commit the image record.
// Blobs already in the store are not fetched again; an interrupted blob resumes with a Range
// request (a partial file left by an earlier run, or a transfer cut now: the registry client
// retries transient failures with backoff and continues from the bytes written). The hash of
// resumed bytes is recomputed from disk, never trusted. Thread-safe: one DockerFetcher serves
// all jobs.
#pragma once

#include <mutex>
#include <optional>
#include <unordered_map>

#include "wharf/content/blob_store.h"
#include "wharf/content/layer_digester.h"
#include "wharf/content/unpack_limits.h"
#include "wharf/oci/image.h"
#include "wharf/pull/blob_pins.h"
#include "wharf/pull/pull_queue.h"
#include "wharf/registry/client.h"

namespace wharf::pull {

struct DockerFetcherOptions {
  oci::Platform platform;     // the platform chosen from an index
  int layer_parallelism = 6;  // layers fetched at once within one image
  // Restarts from byte 0 of a blob whose server ignored a Range request. Transient failures
  // are tried again inside the registry client (registry::Options::request_tries), not here.
  int range_restarts = 3;
  // Each layer's decompression ([downloads] max_unpacked_bytes, max_unpack_ratio): a layer
  // past them fails the job as it is read (TooLarge naming it), its partial file removed.
  content::UnpackLimits unpack;
};

// The diff_id and unpacked size of layers already digested, by blob digest, so that a stored
// layer which a later image shares (a common base) is not read back and inflated again for
// every image: a blob's bytes cannot change under its name, so neither can its diff_id. At
// most kLimit entries (then it starts over). Thread-safe.
class LayerDigestMemo {
 public:
  static constexpr size_t kLimit = 4096;
  std::optional<content::LayerDigester::Output> Find(const Digest& blob) const;
  void Remember(const Digest& blob, const content::LayerDigester::Output& output);

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, content::LayerDigester::Output> outputs_;
};

class DockerFetcher : public Fetcher {
 public:
  DockerFetcher(DockerFetcherOptions options, content::BlobStore& store, registry::Client& client,
                BlobPins& pins);

  Result<void> Fetch(const metadata::JobRecord& job, JobProgress& progress,
                     const CommitFn& commit) override;

 private:
  DockerFetcherOptions options_;
  content::BlobStore& store_;
  registry::Client& client_;
  BlobPins& pins_;
  LayerDigestMemo digests_;
};

}  // namespace wharf::pull
