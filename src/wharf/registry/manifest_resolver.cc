#include "wharf/registry/manifest_resolver.h"

#include <utility>
#include <vector>

#include "wharf/oci/image_checks.h"

namespace wharf::registry {

namespace {

bool IsIndexMediaType(std::string_view media_type) {
  return media_type == oci::kOciIndex || media_type == oci::kDockerManifestList;
}

// BuildKit's provenance and SBOM entries: annotated, and given the platform unknown/unknown.
bool IsAttestation(const oci::Descriptor& desc) {
  auto type = desc.annotations.find("vnd.docker.reference.type");
  if (type != desc.annotations.end() && type->second == "attestation-manifest") return true;
  return desc.platform && desc.platform->os == "unknown";
}

struct Chosen {
  ManifestResponse manifest;
  oci::Manifest parsed;
};

Result<Chosen> ParseChosen(ManifestResponse response) {
  WHARF_ASSIGN_OR_RETURN(auto parsed, oci::ParseManifest(response.body));
  return Chosen{std::move(response), std::move(parsed)};
}

// The walk below the reference's index. nullopt means "this platform is not under here",
// which the caller may answer by trying another nested index.
class IndexWalk {
 public:
  IndexWalk(Client& client, const reference::Reference& ref, const oci::Platform& platform,
            const std::function<bool()>& cancelled)
      : client_(client), ref_(ref), platform_(platform), cancelled_(cancelled) {}

  // The platform's manifest under `index`, which is `depth` levels deep (1: the reference's).
  // As containerd: image manifests whose entry names a matching platform first (the best
  // match as ChoosePlatform says), then indexes whose entry names a matching platform, then
  // the entries without a platform, in order (an image manifest among them is taken when its
  // config's platform matches).
  Result<std::optional<Chosen>> Under(const oci::Index& index, int depth) {
    oci::Index images{index.media_type, {}};
    std::vector<const oci::Descriptor*> indexes;
    std::vector<const oci::Descriptor*> unplaced;
    for (const oci::Descriptor& desc : index.manifests) {
      if (IsAttestation(desc)) continue;
      if (!desc.platform) {
        unplaced.push_back(&desc);
      } else if (IsIndexMediaType(desc.media_type)) {
        if (oci::Matches(platform_, *desc.platform)) indexes.push_back(&desc);
      } else {
        images.manifests.push_back(desc);
        seen_.push_back(desc);
      }
    }
    if (auto desc = oci::ChoosePlatform(images, platform_)) {
      return Follow(*desc, depth, /*platform_known=*/true);
    }
    for (const auto& group : {indexes, unplaced}) {
      for (const oci::Descriptor* desc : group) {
        auto found = Follow(*desc, depth, /*platform_known=*/false);
        if (!found || *found) return found;
      }
    }
    return std::nullopt;
  }

  // The one error for a platform found nowhere: ChoosePlatform's over the image entries of
  // every level, noting the indexes left unfollowed for their depth.
  Status NotFoundError() const {
    auto matching = oci::ChoosePlatform(oci::Index{{}, seen_}, platform_);
    Status status =
        matching ? Status{Code::kNotFound,
                          "no image for " + oci::Normalize(platform_).String() + " in this index"}
                 : matching.error();
    if (too_deep_) {
      status.message += " (indexes nested deeper than " + std::to_string(kMaxIndexDepth) +
                        " levels are not followed)";
    }
    return status;
  }

 private:
  // Fetches the entry `desc` of an index at level `depth` and, if it is an index itself,
  // walks it (unless that would go deeper than kMaxIndexDepth). An image manifest is taken if
  // its entry named a matching platform, or else if its config's platform matches.
  Result<std::optional<Chosen>> Follow(const oci::Descriptor& desc, int depth,
                                       bool platform_known) {
    if (depth >= kMaxIndexDepth && IsIndexMediaType(desc.media_type)) {
      too_deep_ = true;
      return std::nullopt;
    }
    WHARF_ASSIGN_OR_RETURN(auto got, client_.GetManifest(ref_, desc.digest.str(), cancelled_));
    WHARF_ASSIGN_OR_RETURN(auto kind, oci::ClassifyManifest(got.media_type, got.body));
    if (kind == oci::ManifestKind::kImage) {
      WHARF_ASSIGN_OR_RETURN(auto chosen, ParseChosen(std::move(got)));
      if (!platform_known) {
        WHARF_ASSIGN_OR_RETURN(auto fits, ConfigFitsPlatform(chosen.parsed));
        if (!fits) return std::nullopt;
      }
      return std::optional<Chosen>(std::move(chosen));
    }
    if (depth >= kMaxIndexDepth) {
      too_deep_ = true;
      return std::nullopt;
    }
    WHARF_ASSIGN_OR_RETURN(auto index, oci::ParseIndex(got.body));
    return Under(index, depth + 1);
  }

  // Whether the config of `manifest` (an entry without a platform) names the platform; its
  // platform then counts among those the index has.
  Result<bool> ConfigFitsPlatform(const oci::Manifest& manifest) {
    WHARF_ASSIGN_OR_RETURN(auto body,
                           client_.GetSmallBlob(ref_, manifest.config.digest, cancelled_));
    WHARF_ASSIGN_OR_RETURN(auto config, oci::ParseConfig(body));
    oci::Platform have{config.os, config.architecture, config.variant};
    oci::Descriptor placed = manifest.config;
    placed.platform = have;
    seen_.push_back(std::move(placed));
    return oci::Matches(platform_, have);
  }

  Client& client_;
  const reference::Reference& ref_;
  const oci::Platform& platform_;
  const std::function<bool()>& cancelled_;
  std::vector<oci::Descriptor> seen_;  // image entries with a platform, every level, in order
  bool too_deep_ = false;              // an index was left unfollowed for its depth
};

}  // namespace

Result<ResolvedManifest> ResolveManifest(Client& client, const reference::Reference& ref,
                                         const oci::Platform& platform,
                                         const std::function<bool()>& cancelled) {
  WHARF_ASSIGN_OR_RETURN(
      auto top, client.GetManifest(ref, ref.digest.empty() ? ref.tag : ref.digest, cancelled));
  WHARF_ASSIGN_OR_RETURN(auto kind, oci::ClassifyManifest(top.media_type, top.body));
  ResolvedManifest out;
  out.digest = top.digest;
  out.media_type = top.media_type;
  if (kind == oci::ManifestKind::kImage) {
    WHARF_ASSIGN_OR_RETURN(auto chosen, ParseChosen(std::move(top)));
    WHARF_RETURN_IF_ERROR(oci::CheckContainerImage(chosen.parsed, ref.FamiliarString()));
    out.manifest = std::move(chosen.manifest);
    out.parsed = std::move(chosen.parsed);
    return out;
  }
  WHARF_ASSIGN_OR_RETURN(auto index, oci::ParseIndex(top.body));
  IndexWalk walk(client, ref, platform, cancelled);
  auto chosen = walk.Under(index, 1);
  if (!chosen) return Error(chosen.error());
  if (!*chosen) return Error(walk.NotFoundError());
  WHARF_RETURN_IF_ERROR(oci::CheckContainerImage((*chosen)->parsed, ref.FamiliarString()));
  out.index = std::move(index);
  out.manifest = std::move((*chosen)->manifest);
  out.parsed = std::move((*chosen)->parsed);
  return out;
}

}  // namespace wharf::registry
