// fsck's checks: the files of the store first (every blob hashed), then each image against
// the blobs, then what nothing references, then index.json.
#include "wharf/fsck/check.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <optional>
#include <tuple>
#include <utility>

#include "wharf/base/file_util.h"
#include "wharf/oci/image.h"

namespace wharf::fsck {

namespace fs = std::filesystem;

namespace {

constexpr size_t kReadBufferSize = 1 << 20;
constexpr size_t kMaxJsonBlob = 4 << 20;  // as BlobStore::Read: manifests and configs are small
constexpr std::string_view kPartialSuffix = ".partial";

bool IsTempName(const std::string& name) { return name.find(kTempMarker) != std::string::npos; }

// The sha256 of a file's content and its size.
Result<std::pair<Digest, int64_t>> HashFile(const fs::path& path, std::string& buffer) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open " + path.string(), errno);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  buffer.resize(kReadBufferSize);
  Sha256 hash;
  int64_t total = 0;
  for (;;) {
    ssize_t got = ::read(fd, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int err = errno;
      ::close(fd);
      return ErrnoError("read " + path.string(), err);
    }
    if (got == 0) break;
    hash.Update(buffer.data(), static_cast<size_t>(got));
    total += got;
  }
  ::close(fd);
  return std::make_pair(hash.Finish(), total);
}

// The entries of a directory, sorted (so that reports are stable); empty if it is missing.
std::vector<fs::directory_entry> Entries(const fs::path& dir) {
  std::vector<fs::directory_entry> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    out.push_back(*it);
  }
  std::sort(out.begin(), out.end());
  return out;
}

class Checker {
 public:
  Checker(const fs::path& data, metadata::Database& db, metadata::ImageStore& images,
          metadata::JobStore& jobs)
      : data_(data), db_(db), images_(images), jobs_(jobs) {}

  Result<Findings> Run() {
    WHARF_ASSIGN_OR_RETURN(auto ok, db_.IntegrityOk());
    if (!ok) Add("database", "wharf.db", "PRAGMA integrity_check does not answer \"ok\"");
    WHARF_ASSIGN_OR_RETURN(auto images, images_.List());
    f_.images = std::move(images);
    WHARF_ASSIGN_OR_RETURN(auto jobs, jobs_.List());
    f_.jobs = std::move(jobs);
    for (const auto& job : f_.jobs) {
      if (job.state != "failed") ++f_.report.unfinished_jobs;
    }
    f_.keep_unreferenced = f_.report.unfinished_jobs > 0;
    f_.report.images = static_cast<int64_t>(f_.images.size());

    CheckLayout();
    CheckBlobs();
    CheckTempFiles(data_);
    CheckIngest();
    for (size_t i = 0; i < f_.images.size(); ++i) CheckImage(i);
    CheckOrphans();
    CheckIndex();
    return std::move(f_);
  }

 private:
  void Add(std::string kind, std::string object, std::string detail) {
    f_.report.problems.push_back({std::move(kind), std::move(object), std::move(detail)});
  }

  // A problem of image `i`; its first one becomes the reason it is broken.
  void AddImage(size_t i, std::string kind, std::string detail) {
    f_.broken.try_emplace(i, detail);
    f_.image_of_problem[f_.report.problems.size()] = i;
    Add(std::move(kind), ImageObject(f_.images[i]), std::move(detail));
  }

  std::string Relative(const fs::path& p) const { return p.lexically_relative(data_).string(); }

  void CheckLayout() {
    std::error_code ec;
    if (!fs::is_regular_file(data_ / "oci-layout", ec)) Add("layout", "oci-layout", "missing");
    if (!fs::is_directory(data_ / "blobs" / "sha256", ec)) {
      Add("layout", "blobs/sha256", "missing");
    }
  }

  void CheckBlobs() {
    std::string buffer;
    for (const auto& entry : Entries(data_ / "blobs" / "sha256")) {
      const std::string name = entry.path().filename().string();
      std::error_code ec;
      if (IsTempName(name)) {
        Add("temp-file", Relative(entry.path()), "left by an interrupted write");
        continue;
      }
      if (name.starts_with("upload-") && name.ends_with(".tmp")) {
        Add("temp-file", Relative(entry.path()), "left by an interrupted import");
        continue;
      }
      auto digest = Digest::FromHex(name);
      if (!digest || !entry.is_regular_file(ec)) {
        Add("stray-file", Relative(entry.path()), "not a blob: its name is not a sha256 digest");
        continue;
      }
      auto hashed = HashFile(entry.path(), buffer);
      if (!hashed) {
        corrupt_.insert(*digest);
        Add("corrupt-blob", digest->str(), "unreadable: " + hashed.error().message);
        continue;
      }
      ++f_.report.blobs;
      f_.report.blob_bytes += hashed->second;
      sizes_[*digest] = hashed->second;
      if (hashed->first != *digest) {
        corrupt_.insert(*digest);
        Add("corrupt-blob", digest->str(), "its content hashes to " + hashed->first.str());
      } else {
        f_.good_blobs.insert(*digest);
      }
    }
  }

  void CheckTempFiles(const fs::path& dir) {
    for (const auto& entry : Entries(dir)) {
      if (IsTempName(entry.path().filename().string())) {
        Add("temp-file", Relative(entry.path()), "left by an interrupted write");
      }
    }
  }

  void CheckIngest() {
    for (const auto& entry : Entries(data_ / "ingest")) {
      const std::string name = entry.path().filename().string();
      if (IsTempName(name)) {
        Add("temp-file", Relative(entry.path()), "left by an interrupted write");
        continue;
      }
      std::optional<Digest> digest;
      if (name.ends_with(kPartialSuffix)) {
        if (auto d = Digest::FromHex(name.substr(0, name.size() - kPartialSuffix.size()))) {
          digest = *d;
        }
      }
      std::error_code ec;
      if (!digest || !entry.is_regular_file(ec)) {
        Add("stray-file", Relative(entry.path()), "not a partial download (<sha256 hex>.partial)");
      } else if (f_.good_blobs.contains(*digest)) {
        Add("orphan-partial", Relative(entry.path()), "the blob is already complete");
      } else if (f_.keep_unreferenced) {
        ++f_.report.kept_for_jobs;
      } else {
        Add("orphan-partial", Relative(entry.path()), "no unfinished download job");
      }
    }
  }

  // Checks that the image's edges name blobs that are present and whole; returns the edges.
  std::set<Digest> CheckEdges(size_t i) {
    std::set<Digest> edges;
    for (const std::string& edge : f_.images[i].blobs) {
      auto digest = Digest::Parse(edge);
      if (!digest) {
        AddImage(i, "dangling-edge", "blob edge \"" + edge + "\" is not a digest");
        continue;
      }
      edges.insert(*digest);
      if (corrupt_.contains(*digest)) {
        AddImage(i, "broken-image", "blob " + edge + " is corrupt");
      } else if (!f_.good_blobs.contains(*digest)) {
        AddImage(i, "dangling-edge", "blob " + edge + " is missing from the store");
      }
    }
    return edges;
  }

  // The JSON blob `d` if it is present and whole (problems with it are reported elsewhere).
  std::optional<std::string> ReadJsonBlob(size_t i, const Digest& d, std::string_view what) {
    if (!f_.good_blobs.contains(d)) return std::nullopt;
    auto body = ReadFile(data_ / "blobs" / "sha256" / d.hex(), kMaxJsonBlob);
    if (!body) {
      AddImage(i, "broken-image", std::string(what) + " cannot be read: " + body.error().message);
      return std::nullopt;
    }
    return *std::move(body);
  }

  void CheckSize(size_t i, const Digest& d, int64_t want, std::string_view what) {
    auto it = sizes_.find(d);
    if (it == sizes_.end() || !f_.good_blobs.contains(d) || it->second == want) return;
    AddImage(i, "broken-image",
             std::string(what) + " " + d.str() + " is " + std::to_string(it->second) +
                 " bytes, not " + std::to_string(want));
  }

  void CheckImage(size_t i) {
    const metadata::ImageRecord& image = f_.images[i];
    std::set<Digest> edges = CheckEdges(i);
    if (image.type != "docker") return;  // LXC images: their edges are all there is to check

    auto manifest_digest = Digest::Parse(image.manifest_digest);
    auto config_digest = Digest::Parse(image.config_digest);
    if (!manifest_digest || !edges.contains(*manifest_digest)) {
      AddImage(i, "broken-image",
               "manifest \"" + image.manifest_digest + "\" is not among the image's blobs");
      return;
    }
    if (!config_digest || !edges.contains(*config_digest)) {
      AddImage(i, "broken-image",
               "config \"" + image.config_digest + "\" is not among the image's blobs");
      return;
    }
    CheckSize(i, *manifest_digest, image.manifest_size, "manifest");
    auto manifest_body = ReadJsonBlob(i, *manifest_digest, "manifest");
    if (!manifest_body) return;
    auto manifest = oci::ParseManifest(*manifest_body);
    if (!manifest) {
      AddImage(i, "broken-image", "manifest does not parse: " + manifest.error().message);
      return;
    }
    if (manifest->config.digest != *config_digest) {
      AddImage(i, "broken-image",
               "manifest names config " + manifest->config.digest.str() + ", the image records " +
                   image.config_digest);
      return;
    }
    CheckSize(i, *config_digest, manifest->config.size, "config");
    std::set<Digest> named = {*manifest_digest, *config_digest};
    for (const oci::Descriptor& layer : manifest->layers) {
      named.insert(layer.digest);
      if (!edges.contains(layer.digest)) {
        AddImage(i, "broken-image",
                 "layer " + layer.digest.str() + " is not among the image's blobs");
      }
      CheckSize(i, layer.digest, layer.size, "layer");
    }
    for (const Digest& edge : edges) {
      if (!named.contains(edge)) {
        AddImage(i, "broken-image", "blob " + edge.str() + " is not named by the manifest");
      }
    }
    auto config_body = ReadJsonBlob(i, *config_digest, "config");
    if (!config_body) return;
    auto config = oci::ParseConfig(*config_body);
    if (!config) {
      AddImage(i, "broken-image", "config does not parse: " + config.error().message);
    } else if (config->diff_ids.size() != manifest->layers.size()) {
      AddImage(i, "broken-image",
               "config has " + std::to_string(config->diff_ids.size()) + " diff_ids for " +
                   std::to_string(manifest->layers.size()) + " layers");
    }
  }

  void CheckOrphans() {
    std::set<Digest> referenced;
    for (const auto& image : f_.images) {
      for (const std::string& edge : image.blobs) {
        if (auto d = Digest::Parse(edge)) referenced.insert(*d);
      }
    }
    for (const Digest& d : f_.good_blobs) {
      if (referenced.contains(d)) continue;
      if (f_.keep_unreferenced) {
        ++f_.report.kept_for_jobs;
      } else {
        Add("orphan-blob", d.str(), "no image references it");
      }
    }
  }

  void CheckIndex() {
    using Entry = std::tuple<std::string, std::string, std::string>;  // digest, ref, name
    std::multiset<Entry> want;
    for (const auto& e : IndexEntries(f_.images)) {
      want.insert({e.manifest.str(), e.ref_name, e.image_name});
    }
    auto text = ReadFile(data_ / "index.json");
    if (!text) {
      Add("stale-index", "index.json", "cannot be read: " + text.error().message);
      return;
    }
    auto json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    const nlohmann::json* manifests = nullptr;
    if (json.is_object() && json.contains("manifests") && json["manifests"].is_array()) {
      manifests = &json["manifests"];
    }
    if (manifests == nullptr) {
      Add("stale-index", "index.json", "is not an OCI image index");
      return;
    }
    std::multiset<Entry> have;
    for (const auto& m : *manifests) {
      auto text_at = [](const nlohmann::json& object, const char* key) -> std::string {
        if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return "";
        return object[key].get<std::string>();
      };
      nlohmann::json annotations =
          m.is_object() ? m.value("annotations", nlohmann::json()) : nullptr;
      have.insert({text_at(m, "digest"), text_at(annotations, "org.opencontainers.image.ref.name"),
                   text_at(annotations, "io.containerd.image.name")});
    }
    if (have != want) {
      Add("stale-index", "index.json",
          "lists " + std::to_string(have.size()) + " images, not the " +
              std::to_string(want.size()) + " Docker images of the database");
    }
  }

  fs::path data_;
  metadata::Database& db_;
  metadata::ImageStore& images_;
  metadata::JobStore& jobs_;
  Findings f_;
  std::set<Digest> corrupt_;
  std::map<Digest, int64_t> sizes_;
};

}  // namespace

std::string ImageObject(const metadata::ImageRecord& image) {
  return image.type + ":" + (image.display_name.empty() ? image.name : image.display_name) + ":" +
         image.tag;
}

std::vector<content::BlobStore::IndexEntry> IndexEntries(
    const std::vector<metadata::ImageRecord>& images) {
  // The same entries as service::Collector::RefreshLayoutIndex writes.
  std::vector<content::BlobStore::IndexEntry> entries;
  for (const auto& image : images) {
    if (image.type != "docker") continue;
    auto digest = Digest::Parse(image.manifest_digest);
    if (!digest) continue;
    entries.push_back({*digest, image.manifest_media_type, image.manifest_size,
                       image.display_name + ":" + image.tag, image.name + ":" + image.tag});
  }
  return entries;
}

Result<Findings> Check(const fs::path& data, metadata::Database& db, metadata::ImageStore& images,
                       metadata::JobStore& jobs) {
  return Checker(data, db, images, jobs).Run();
}

}  // namespace wharf::fsck
