// Images at their registries, without downloading layers: remote inspect and a repository's
// tags, and which registries a user may have wharf reach for them. Every registry request
// polls `cancelled` (unset: never), in transfers and in the waits between tries; a call it
// stops returns Cancelled naming what was being fetched. Thread-safe (the registry client is;
// RegistryReach's functions must be).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/depot/depots.h"
#include "wharf/oci/image.h"
#include "wharf/registry/client.h"
#include "wharf/service/local_images.h"

namespace wharf::service {

struct TagList {
  std::vector<std::string> installed;
  std::vector<std::string> tags;
};

// Which registries a user who is not an admin may have wharf reach ([security]
// user_registries): with `any`, every host; otherwise Docker Hub, the hosts `configured` says
// are configured registries, and the registries of the Docker entries of `depots`' curated
// catalogs (read at each call). Admins reach any host either way.
struct RegistryReach {
  bool any = true;
  std::function<bool(const std::string& host)> configured;  // "host[:port]"; unset: none
  const depot::Depots* depots = nullptr;                    // unset: no catalogs
};

class RemoteImages {
 public:
  RemoteImages(registry::Client& client, LocalImages& local, oci::Platform platform,
               RegistryReach reach = {});

  // Success when a user who is not an admin may have wharf reach the registry of `name` (as
  // the remote inspect and tags routes carry it), as RegistryReach says; a name that does not
  // parse is success too (its route answers the 400). PermissionDenied otherwise: "registry
  // HOST is not Docker Hub, a configured registry or a catalog entry's; only admins may reach
  // it ([security] user_registries = \"configured\")".
  Result<void> AdmitUser(const std::string& name) const;

  // Docker's image-inspect JSON from the registry (manifest and config only); Size is the
  // sum of the compressed layers; adds Digest and MediaType. It answers what a download would
  // do: where the download refuses the image, InvalidArgument with the download's message (an
  // artifact, a manifest kind wharf does not read, foreign layers: registry::ResolveManifest),
  // or for a config that does not fit its manifest (oci::CheckConfigFits) Unavailable with
  // it. Any other failure of the registry is Unavailable carrying its message (a 502),
  // except NotFound for no such image or tag.
  Result<nlohmann::json> Inspect(const std::string& name, const std::string& tag,
                                 const std::function<bool()>& cancelled = {});
  // Tags of a repository from its registry, "latest" first, then byte-wise order, with
  // those installed here. NotFound "Repository not found: NAME".
  Result<TagList> Tags(const std::string& name, bool official,
                       const std::function<bool()>& cancelled = {});

 private:
  // True if an entry of a curated catalog names an image on `domain`.
  bool InCatalog(const std::string& domain) const;

  registry::Client& client_;
  LocalImages& local_;
  oci::Platform platform_;
  RegistryReach reach_;
};

}  // namespace wharf::service
