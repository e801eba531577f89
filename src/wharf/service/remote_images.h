// Images at their registries, without downloading layers: remote inspect and a repository's
// tags. Every registry request polls `cancelled` (unset: never), in transfers and in the
// waits between tries; a call it stops returns Cancelled naming what was being fetched.
// Thread-safe (the registry client is).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/oci/image.h"
#include "wharf/registry/client.h"
#include "wharf/service/local_images.h"

namespace wharf::service {

struct TagList {
  std::vector<std::string> installed;
  std::vector<std::string> tags;
};

class RemoteImages {
 public:
  RemoteImages(registry::Client& client, LocalImages& local, oci::Platform platform);

  // Docker's image-inspect JSON from the registry (manifest and config only); Size is the
  // sum of the compressed layers; adds Digest and MediaType. A registry's failure is
  // Unavailable carrying its message (a 502), except NotFound for no such image or tag.
  Result<nlohmann::json> Inspect(const std::string& name, const std::string& tag,
                                 const std::function<bool()>& cancelled = {});
  // Tags of a repository from its registry, "latest" first, then byte-wise order, with
  // those installed here. NotFound "Repository not found: NAME".
  Result<TagList> Tags(const std::string& name, bool official,
                       const std::function<bool()>& cancelled = {});

 private:
  registry::Client& client_;
  LocalImages& local_;
  oci::Platform platform_;
};

}  // namespace wharf::service
