// fsck's repairs: files first, then broken images (removed, download marked failed), then the
// blobs only they used, then index.json.
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <set>

#include "wharf/base/clock.h"
#include "wharf/fsck/check.h"

namespace wharf::fsck {

namespace fs = std::filesystem;

namespace {

// The depot a re-download of this image would name; only shown, never used to fetch.
std::string SourceOf(const metadata::ImageRecord& image) {
  return image.type == "docker" ? "dockerhub" : "appcenter";
}

// A new failed download of `image` (no id yet), created now.
metadata::JobRecord NewFailedJob(const metadata::ImageRecord& image, int64_t now) {
  metadata::JobRecord job;
  job.type = image.type;
  job.name = image.name;
  job.tag = image.tag;
  job.display_name = image.display_name;
  job.source = SourceOf(image);
  job.description = image.description;
  job.location = image.location;
  job.icon = image.icon;
  job.state = "failed";
  job.created_at = now;
  return job;
}

class Repairer {
 public:
  Repairer(const fs::path& data, metadata::ImageStore& images, Findings& findings, Clock& clock)
      : data_(data), images_(images), f_(findings), clock_(clock) {}

  Result<void> Run() {
    // The store's directories and oci-layout come back if they were missing.
    auto store = content::BlobStore::Open(data_);
    if (!store) return Error(store.error());
    owned_ = *std::move(store);
    store_ = owned_.get();
    auto& problems = f_.report.problems;
    for (size_t i = 0; i < problems.size(); ++i) {
      Problem& p = problems[i];
      if (p.kind == "temp-file" || p.kind == "stray-file" || p.kind == "orphan-partial") {
        RemoveFile(p, data_ / p.object);
      } else if (p.kind == "corrupt-blob" || p.kind == "orphan-blob") {
        if (auto d = Digest::Parse(p.object)) RemoveBlob(p, *d);
      } else if (p.kind == "layout") {
        Mark(p, "recreated");
      }
    }
    for (const auto& [image_index, reason] : f_.broken) {
      WHARF_RETURN_IF_ERROR(MarkFailed(f_.images[image_index], reason));
    }
    for (const auto& [problem_index, image_index] : f_.image_of_problem) {
      Mark(problems[problem_index], "image removed, its download marked failed");
    }
    if (!f_.broken.empty()) WHARF_RETURN_IF_ERROR(RemoveBlobsOfBrokenImages());
    return RewriteIndex();
  }

 private:
  static void Mark(Problem& p, std::string action) {
    p.repaired = true;
    p.action = std::move(action);
  }

  void RemoveFile(Problem& p, const fs::path& path) {
    if (::unlink(path.c_str()) == 0 || errno == ENOENT) {
      Mark(p, "removed");
    } else {
      p.action = ErrnoError("cannot remove it", errno).error().message;
    }
  }

  void RemoveBlob(Problem& p, const Digest& d) {
    if (auto s = store_->Delete(d); s) {
      Mark(p, "removed");
    } else {
      p.action = "cannot remove it: " + s.error().message;
    }
  }

  // Takes the image out of the images table and records its download as failed, so that it
  // shows in downloadstatus with the reason and can be downloaded again. An unfinished job for
  // it is left alone: it downloads the image again by itself. The removal and the failed job
  // are one transaction.
  Result<void> MarkFailed(const metadata::ImageRecord& image, const std::string& reason) {
    const int64_t now = clock_.NowSeconds();
    std::optional<metadata::JobRecord> failed;
    for (const metadata::JobRecord& job : f_.jobs) {
      if (job.type != image.type || job.name != image.name || job.tag != image.tag) continue;
      if (job.state != "failed") {
        WHARF_RETURN_IF_ERROR(images_.Delete(image.type, image.name, image.tag));
        return {};
      }
      failed = job;
      break;
    }
    if (!failed) failed = NewFailedJob(image, now);
    failed->error = "fsck: " + reason;
    failed->finished_at = now;
    WHARF_RETURN_IF_ERROR(images_.DeleteAndPutJob(image.type, image.name, image.tag, *failed));
    return {};
  }

  // Blobs that were referenced only by the images just removed are orphans now.
  Result<void> RemoveBlobsOfBrokenImages() {
    if (f_.keep_unreferenced) return {};
    WHARF_ASSIGN_OR_RETURN(auto referenced, images_.ReferencedBlobs());
    std::set<std::string> removed;
    for (const auto& p : f_.report.problems) {
      if (p.repaired && (p.kind == "corrupt-blob" || p.kind == "orphan-blob"))
        removed.insert(p.object);
    }
    for (const auto& [image_index, reason] : f_.broken) {
      for (const std::string& edge : f_.images[image_index].blobs) {
        auto d = Digest::Parse(edge);
        if (!d || !f_.good_blobs.contains(*d) || referenced.contains(edge) ||
            !removed.insert(edge).second) {
          continue;
        }
        f_.report.problems.push_back({"orphan-blob", edge, "only broken images used it"});
        RemoveBlob(f_.report.problems.back(), *d);
      }
    }
    return {};
  }

  Result<void> RewriteIndex() {
    WHARF_ASSIGN_OR_RETURN(auto images, images_.List());
    WHARF_RETURN_IF_ERROR(store_->WriteIndex(IndexEntries(images)));
    for (Problem& p : f_.report.problems) {
      if (p.kind == "stale-index") Mark(p, "rewritten");
    }
    return {};
  }

  fs::path data_;
  metadata::ImageStore& images_;
  Findings& f_;
  Clock& clock_;
  content::BlobStore* store_ = nullptr;
  std::unique_ptr<content::BlobStore> owned_;
};

}  // namespace

Result<void> Repair(const fs::path& data, metadata::ImageStore& images, Findings& findings,
                    Clock& clock) {
  return Repairer(data, images, findings, clock).Run();
}

}  // namespace wharf::fsck
