// The images wharf holds: one row per (type, name, tag) with what the API lists and inspects,
// and its blob edges (every blob the image needs), which garbage collection keeps.
//
// An image is visible once Put or PutAndDeleteJob returned: the row, its tag and its edges are
// written in one transaction. Writes that span images and jobs are one transaction too and
// live here (PutAndDeleteJob, DeleteAndPutJob): either both kinds change or neither does.
//
// Thread-safe, as every store over a Database (database.h): each method is one operation under
// the Database's lock, and reads see one snapshot. Errors: besides those listed, Internal with
// SQLite's message (see database.h); a failed write changes nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/metadata/database.h"
#include "wharf/metadata/job_store.h"

namespace wharf::metadata {

struct ImageRecord {
  std::string type;             // "docker" or "lxc"
  std::string name;             // canonical: "docker.io/library/ubuntu"; LXC: catalog name
  std::string tag;              // "latest", "3.0.2", an LXC build serial...
  std::string display_name;     // as listed: "ubuntu", "lgsd/diamond"
  std::string manifest_digest;  // "sha256:..." (docker); empty for lxc
  std::string manifest_media_type;
  int64_t manifest_size = 0;
  std::string config_digest;  // "sha256:..." (docker); empty for lxc
  std::string architecture;   // "amd64"
  std::string os;             // "linux"
  int64_t size = 0;           // bytes unpacked (sum of uncompressed layers)
  std::string description;    // from the download request or the catalog
  std::string location;
  std::string icon;
  std::string extra;               // free-form JSON owned by the caller (e.g. LXC build info)
  int64_t created_at = 0;          // when wharf stored it (epoch seconds)
  std::vector<std::string> blobs;  // every blob digest the image needs (manifest, config, layers)
};

class ImageStore {
 public:
  // `db` must outlive the store.
  explicit ImageStore(Database& db);
  ~ImageStore();
  ImageStore(const ImageStore&) = delete;
  ImageStore& operator=(const ImageStore&) = delete;

  // Records the image, replacing the row of the same (type, name, tag) and all its edges (the
  // row keeps its id); duplicate digests in image.blobs are stored once. InvalidArgument when
  // type, name or tag is empty (an empty tag would be unreachable: Delete reads it as "every
  // tag").
  Result<void> Put(const ImageRecord& image);
  // A download's commit: Put(image) and JobStore::Delete(job_id) in one transaction, so that
  // the image never shows while its job is still listed, and a crash leaves either the job
  // (which resumes) or the image. Success also when no job has that id; true when the image
  // replaced a record of the same (type, name, tag), whose blobs may now be unreferenced.
  // Errors as Put's.
  Result<bool> PutAndDeleteJob(const ImageRecord& image, int64_t job_id);

  // Every image with its edges (digests sorted), by display_name then tag, byte-wise.
  Result<std::vector<ImageRecord>> List();
  // The image of that (type, name, tag) with its edges; none when there is no such image.
  // InvalidArgument when tag is empty.
  Result<std::optional<ImageRecord>> Get(const std::string& type, const std::string& name,
                                         const std::string& tag);

  // Deletes one tag of type/name, or every tag when `tag` is empty, with their edges; returns
  // what was deleted (with edges, ordered as List), empty when nothing matched.
  Result<std::vector<ImageRecord>> Delete(const std::string& type, const std::string& name,
                                          const std::string& tag);
  // fsck's repair of a broken image: Delete(type, name, tag) and, in the same transaction,
  // records `job`: JobStore::Add when job.id is 0, otherwise JobStore::Update (NotFound "no job
  // ID" if there is none, and then nothing is deleted). The job is recorded whether or not an
  // image matched. Returns what was deleted.
  Result<std::vector<ImageRecord>> DeleteAndPutJob(const std::string& type, const std::string& name,
                                                   const std::string& tag, const JobRecord& job);

  // The union of all images' blob edges.
  Result<std::set<std::string>> ReferencedBlobs();

 private:
  struct Impl;
  Database& db_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wharf::metadata
