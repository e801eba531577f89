#include "wharf/service/remote_images.h"

#include "wharf/base/strings.h"
#include "wharf/oci/image_checks.h"
#include "wharf/registry/manifest_resolver.h"
#include "wharf/service/image_names.h"
#include "wharf/service/inspect_view.h"

namespace wharf::service {

RemoteImages::RemoteImages(registry::Client& client, LocalImages& local, oci::Platform platform,
                           RegistryReach reach)
    : client_(client), local_(local), platform_(std::move(platform)), reach_(std::move(reach)) {}

Result<void> RemoteImages::AdmitUser(const std::string& name) const {
  if (reach_.any) return {};
  auto ref = ParseImage(name, "latest");
  if (!ref) return {};
  const std::string& host = ref->domain;
  if (host == reference::kDockerHubDomain) return {};
  if (reach_.configured && (reach_.configured(host) || reach_.configured(Lower(host)))) return {};
  if (InCatalog(host)) return {};
  return PermissionDenied("registry " + host +
                          " is not Docker Hub, a configured registry or a catalog entry's; only "
                          "admins may reach it ([security] user_registries = \"configured\")");
}

bool RemoteImages::InCatalog(const std::string& domain) const {
  if (reach_.depots == nullptr) return false;
  for (const auto& catalog : {reach_.depots->Appcenter(), reach_.depots->Official()}) {
    if (!catalog) continue;
    for (const depot::CatalogEntry& entry : catalog->entries) {
      if (entry.type != "docker") continue;
      auto ref = ParseImage(entry.name, "latest");
      if (ref && ref->domain == domain) return true;
    }
  }
  return false;
}

Result<nlohmann::json> RemoteImages::Inspect(const std::string& name, const std::string& tag,
                                             const std::function<bool()>& cancelled) {
  WHARF_ASSIGN_OR_RETURN(auto ref, ParseImage(name, tag));
  // Past the name, every failure is the registry's: a 502 carrying its message (an
  // authentication refusal included, which must not read as this API's own 401), except
  // "no such image or tag", a 404, and what a download refuses to take (InvalidArgument from
  // the resolver: an artifact, a manifest kind wharf does not read), a 400.
  auto upstream = [](Status status) {
    if (status.code != Code::kNotFound && status.code != Code::kCancelled &&
        status.code != Code::kInternal && status.code != Code::kInvalidArgument) {
      status.code = Code::kUnavailable;
    }
    return Error(std::move(status));
  };
  auto resolved = registry::ResolveManifest(client_, ref, platform_, cancelled);
  if (!resolved) return upstream(resolved.error());
  const oci::Manifest& manifest = resolved->parsed;
  auto config = client_.GetSmallBlob(ref, manifest.config.digest, cancelled);
  if (!config) return upstream(config.error());
  // As a download: the config must describe the manifest's layers.
  auto parsed = oci::ParseConfig(*config);
  if (!parsed) return upstream(parsed.error());
  if (auto fits = oci::CheckConfigFits(manifest, *parsed); !fits) return upstream(fits.error());
  int64_t size = 0;  // compressed, as the registry stores it: nothing is unpacked here
  for (const auto& layer : manifest.layers) size += layer.size;
  std::vector<std::string> repo_tags;
  if (ref.digest.empty()) repo_tags.push_back(ref.FamiliarString());
  InspectFacts facts{*config,
                     manifest.config.digest.str(),
                     repo_tags,
                     {ref.Familiar() + "@" + resolved->digest.str()},
                     size};
  auto view = BuildInspect(facts);
  if (!view) return upstream(view.error());
  (*view)["Digest"] = resolved->digest.str();
  std::string media_type = resolved->media_type;
  if (media_type.empty() || media_type == "application/json") {
    if (!resolved->index) media_type = manifest.media_type;
  }
  (*view)["MediaType"] = media_type;
  return view;
}

Result<TagList> RemoteImages::Tags(const std::string& name, bool official,
                                   const std::function<bool()>& cancelled) {
  std::string full = official && name.find('/') == std::string::npos ? "library/" + name : name;
  WHARF_ASSIGN_OR_RETURN(auto ref, ParseImage(full, "latest"));
  auto tags = client_.ListTags(ref, cancelled);
  if (!tags && tags.error().code == Code::kNotFound) {
    return NotFound("Repository not found: " + ref.Familiar());
  }
  // Docker Hub answers 401 for a repository that does not exist, as for a private one; like
  // Docker, say both. A 401 must not reach the API's client, for whom it means "log in".
  if (!tags && (tags.error().code == Code::kUnauthenticated ||
                tags.error().code == Code::kPermissionDenied)) {
    return NotFound("Repository not found or access denied: " + ref.Familiar() + " (" +
                    tags.error().message + ")");
  }
  if (!tags) return Error(tags.error());
  TagList out;
  out.tags = std::move(*tags);
  SortTags(out.tags);
  WHARF_ASSIGN_OR_RETURN(out.installed, local_.Tags(ref.Name()));
  return out;
}

}  // namespace wharf::service
