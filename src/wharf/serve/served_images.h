// The local Docker images as the Distribution API serves them: manifests by tag or digest,
// blobs, tag lists and the catalog, read from the content store. Each repository serves only
// what its own images reference, so a client allowed to read one repository cannot read a
// blob of another by guessing its digest. Every tag serves the platform manifest wharf pulled
// (wharf stores one platform per tag), as its stored bytes, media type and digest.
//
// Answers come from an index of the image records rebuilt only after LocalImages::Version()
// moved (a commit or a deletion). Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "wharf/content/blob_store.h"
#include "wharf/serve/dist_error.h"
#include "wharf/service/local_images.h"

namespace wharf::serve {

struct ServedManifest {
  std::string digest;      // "sha256:..."
  std::string media_type;  // as stored
  std::string bytes;       // the manifest itself
};

struct ServedBlob {
  std::filesystem::path path;
  int64_t size = 0;
};

class ServedImages {
 public:
  // Both must outlive this.
  ServedImages(service::LocalImages& local, content::BlobStore& store);
  ~ServedImages();

  // `repository` is a canonical name (repository_name.h). `reference` a tag or a digest.
  // NAME_UNKNOWN (404) when no Docker image of that name is stored; MANIFEST_UNKNOWN (404)
  // for a tag or digest it does not have; DIGEST_INVALID / TAG_INVALID (400) for a reference
  // that is neither; BLOB_UNKNOWN (404) when the store lost the manifest's blob.
  DistResult<ServedManifest> Manifest(const std::string& repository, const std::string& reference);
  // NAME_UNKNOWN; DIGEST_INVALID (400) for a digest that is not "sha256:<64 hex>";
  // BLOB_UNKNOWN (404) when no image of the repository references it.
  DistResult<ServedBlob> Blob(const std::string& repository, const std::string& digest);
  // The repository's tags, byte-wise sorted. NAME_UNKNOWN.
  DistResult<std::vector<std::string>> Tags(const std::string& repository);
  // Every served repository name (ServedName), sorted.
  DistResult<std::vector<std::string>> Repositories();

 private:
  struct Repo {
    std::map<std::string, std::string> tags;         // tag → manifest digest
    std::map<std::string, std::string> media_types;  // manifest digest → its media type
    std::set<std::string> blobs;                     // every blob of every tag
  };
  using Index = std::map<std::string, Repo>;  // canonical name → repo
  DistResult<std::shared_ptr<const Index>> Current();
  DistResult<const Repo*> Find(const Index& index, const std::string& repository);

  service::LocalImages& local_;
  content::BlobStore& store_;
  std::mutex mu_;
  std::shared_ptr<const Index> index_;
  uint64_t version_ = 0;
};

}  // namespace wharf::serve
