// What the store holds on disk, and what deleting each local image would free (GET
// /api/v1/system/df, `wharf df`). Blobs are counted by their size as stored (compressed
// layers), once each however many images use them: a blob used by one image record counts in
// that image's unique bytes, a blob used by several in each one's shared bytes (and once in
// the store's shared total), so the unique bytes of every image, the shared total and the
// unreferenced blobs add up to the store's total. Two tags of the same image share every
// blob: deleting one of them frees nothing. Thread-safe (reads only).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/service/local_images.h"

namespace wharf::service {

struct ImageUsage {
  std::string type;
  std::string name;  // display name
  std::string tag;
  int64_t stored_bytes = 0;    // every blob it needs, as stored
  int64_t unpacked_bytes = 0;  // its layers uncompressed (the image's size)
  int64_t shared_bytes = 0;    // of stored_bytes, blobs other images need too
  int64_t unique_bytes = 0;    // of stored_bytes, what deleting it frees
};

struct DiskUsage {
  int64_t total_bytes = 0;         // every complete blob
  int64_t unique_bytes = 0;        // the images' unique bytes, summed
  int64_t shared_bytes = 0;        // blobs several images need, each once
  int64_t unreferenced_bytes = 0;  // blobs no image needs (collected after downloads end)
  int64_t partial_bytes = 0;       // downloads and imports in progress (ingest/)
  std::vector<ImageUsage> images;  // by name, then tag
};

// Reads the image records and stats the blobs. Internal when the metadata cannot be read.
Result<DiskUsage> MeasureDiskUsage(LocalImages& local);

}  // namespace wharf::service
