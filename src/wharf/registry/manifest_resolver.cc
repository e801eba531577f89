#include "wharf/registry/manifest_resolver.h"

#include <utility>
#include <vector>

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
  // Entries with a platform are chosen first; only when none matches are the nested indexes
  // (entries without a platform) followed, in order.
  Result<std::optional<Chosen>> Under(const oci::Index& index, int depth) {
    oci::Index platforms{index.media_type, {}};
    std::vector<const oci::Descriptor*> nested;
    for (const oci::Descriptor& desc : index.manifests) {
      if (IsAttestation(desc)) continue;
      if (desc.platform) {
        platforms.manifests.push_back(desc);
        seen_.push_back(desc);
      } else if (IsIndexMediaType(desc.media_type)) {
        nested.push_back(&desc);
      }
    }
    if (auto desc = oci::ChoosePlatform(platforms, platform_)) {
      return Follow(*desc, depth, /*platform_known=*/true);
    }
    for (const oci::Descriptor* desc : nested) {
      auto found = Follow(*desc, depth, /*platform_known=*/false);
      if (!found || *found) return found;
    }
    return std::nullopt;
  }

  // The error for a platform found nowhere: ChoosePlatform's, over every level's entries.
  Status NotFoundError() const {
    auto matching = oci::ChoosePlatform(oci::Index{{}, seen_}, platform_);
    if (!matching) return matching.error();
    // An entry named the platform but led to an index that does not list it.
    return Status{Code::kNotFound, "no image for " + oci::Normalize(platform_).String() +
                                       " in this index; its entry " + matching->digest.str() +
                                       " for it is an index without it"};
  }

 private:
  // Fetches the entry `desc` of an index at level `depth` and, if it is an index itself,
  // walks it. An image manifest is taken only if its entry named a matching platform.
  Result<std::optional<Chosen>> Follow(const oci::Descriptor& desc, int depth,
                                       bool platform_known) {
    WHARF_ASSIGN_OR_RETURN(auto got, client_.GetManifest(ref_, desc.digest.str(), cancelled_));
    WHARF_ASSIGN_OR_RETURN(auto kind, oci::ClassifyManifest(got.media_type, got.body));
    if (kind == oci::ManifestKind::kImage) {
      if (!platform_known) return std::nullopt;
      WHARF_ASSIGN_OR_RETURN(auto chosen, ParseChosen(std::move(got)));
      return std::optional<Chosen>(std::move(chosen));
    }
    if (depth >= kMaxIndexDepth) {
      return InvalidArgument("index " + desc.digest.str() + " of " + ref_.Name() + " is nested " +
                             std::to_string(depth + 1) + " levels deep; indexes are followed " +
                             std::to_string(kMaxIndexDepth) + " levels deep at most");
    }
    WHARF_ASSIGN_OR_RETURN(auto index, oci::ParseIndex(got.body));
    return Under(index, depth + 1);
  }

  Client& client_;
  const reference::Reference& ref_;
  const oci::Platform& platform_;
  const std::function<bool()>& cancelled_;
  std::vector<oci::Descriptor> seen_;  // entries with a platform, every level, in walk order
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
    out.manifest = std::move(chosen.manifest);
    out.parsed = std::move(chosen.parsed);
    return out;
  }
  WHARF_ASSIGN_OR_RETURN(auto index, oci::ParseIndex(top.body));
  IndexWalk walk(client, ref, platform, cancelled);
  auto chosen = walk.Under(index, 1);
  if (!chosen) return Error(chosen.error());
  if (!*chosen) return Error(walk.NotFoundError());
  out.index = std::move(index);
  out.manifest = std::move((*chosen)->manifest);
  out.parsed = std::move((*chosen)->parsed);
  return out;
}

}  // namespace wharf::registry
