// Imports of image archives (POST /api/v1/image/import), each a job of the download queue
// while its upload lasts: listed in downloadstatus with status "importing", its bytes
// received as bytes_done (of bytes_total, the declared size, when known), in the events
// stream, cancellable like a download (DELETE /api/v1/image/downloadstatus/docker/NAME/TAG
// with the job's name and tag). The images of an archive that is read whole and checked (see
// ArchiveImport) are recorded one transaction each, exactly like downloads, handed to the
// engine when one is configured, and then listed in `local`. A failed or cancelled import
// records nothing, and the blobs it stored are collected when it ends.
// Thread-safe: any number of imports may run at once, each fed by one thread at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wharf/base/clock.h"
#include "wharf/base/status.h"
#include "wharf/content/blob_store.h"
#include "wharf/content/unpack_limits.h"
#include "wharf/metadata/image_store.h"
#include "wharf/oci/image.h"
#include "wharf/pull/blob_pins.h"
#include "wharf/pull/pull_queue.h"

namespace wharf::service {

struct ImportOptions {
  uint64_t max_bytes = 64ull << 30;  // imports.max_bytes: of the upload and of its contents
  oci::Platform platform;            // chosen from multi-platform OCI archives
  Clock* clock = &Clock::Default();
  content::UnpackLimits unpack;  // [downloads] max_unpack_*: each layer of the archive
};

// One import in progress. Destroyed without Finish() (or after a Feed error), it ends as
// failed or cancelled, recording nothing.
class Import {
 public:
  virtual ~Import() = default;
  // The next bytes of the upload. An error ends the import (InvalidArgument for a bad archive,
  // Cancelled when it was cancelled); later calls return it again.
  virtual Result<void> Feed(std::string_view bytes) = 0;
  // The upload is complete: checks the archive and records its images; returns them.
  virtual Result<std::vector<metadata::ImageRecord>> Finish() = 0;
  // The upload did not all come: the import fails with `why`.
  virtual void Abandon(const std::string& why) = 0;
};

class Imports {
 public:
  Imports(ImportOptions options, content::BlobStore& store, pull::BlobPins& pins,
          metadata::ImageStore& images, pull::PullQueue& queue);

  // Starts an import, listed as the job `label` (the archive's file name as the client gave
  // it, made safe; "archive.tar" when empty) with tag "import-N". `declared_size` is the
  // upload's Content-Length, when known. `name` (may be empty) names an untagged image
  // ("NAME:TAG"); InvalidArgument when it is not a reference.
  Result<std::unique_ptr<Import>> Begin(const std::string& label,
                                        std::optional<uint64_t> declared_size,
                                        const std::string& name);
  uint64_t max_bytes() const { return options_.max_bytes; }

 private:
  ImportOptions options_;
  content::BlobStore& store_;
  pull::BlobPins& pins_;
  metadata::ImageStore& images_;
  pull::PullQueue& queue_;
  std::atomic<int64_t> count_{0};
};

// The label of an import as the job list shows it: the base name of `file`, every byte
// outside [A-Za-z0-9._-] replaced by '_', at most 100 bytes; "archive.tar" when empty.
std::string ImportLabel(const std::string& file);

}  // namespace wharf::service
