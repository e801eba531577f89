// The two halves of fsck (internal to this module): Check reads the data directory and the
// database and lists what is wrong; Repair acts on that list. Both run under the data
// directory's lock (see fsck.h for the problem kinds and what repair does).
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "wharf/base/clock.h"
#include "wharf/base/digest.h"
#include "wharf/base/status.h"
#include "wharf/content/blob_store.h"
#include "wharf/fsck/fsck.h"
#include "wharf/metadata/database.h"
#include "wharf/metadata/image_store.h"
#include "wharf/metadata/job_store.h"

namespace wharf::fsck {

struct Findings {
  Report report;
  std::vector<metadata::ImageRecord> images;
  std::vector<metadata::JobRecord> jobs;
  std::map<size_t, std::string> broken;       // image index → its first problem, as a reason
  std::map<size_t, size_t> image_of_problem;  // problem index → image index
  std::set<Digest> good_blobs;                // blobs present whose content matches the name
  bool keep_unreferenced = false;             // an unfinished job may still use them
};

// "docker:lgsd/diamond:latest"
std::string ImageObject(const metadata::ImageRecord& image);

// index.json's entries for these images, as wharfd writes them (Docker images only).
std::vector<content::BlobStore::IndexEntry> IndexEntries(
    const std::vector<metadata::ImageRecord>& images);

Result<Findings> Check(const std::filesystem::path& data, metadata::Database& db,
                       metadata::ImageStore& images, metadata::JobStore& jobs);

// Repairs what `findings` lists and marks each problem it repaired. Problems it could not
// repair stay unrepaired; an error stops the repair (what was done stays done). A broken
// image's removal and its failed job are one transaction (ImageStore::DeleteAndPutJob); the
// job is stamped with `clock`'s wall time.
Result<void> Repair(const std::filesystem::path& data, metadata::ImageStore& images,
                    Findings& findings, Clock& clock);

}  // namespace wharf::fsck
