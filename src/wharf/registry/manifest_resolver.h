// The one walk from a reference to the image manifest of one platform, shared by downloads
// and remote inspect: fetch what the tag (or digest) names; if it is an index (OCI image
// index, Docker manifest list), pick the platform's entry and fetch that manifest.
//
// Indexes may nest, as containerd allows. At each level: the image entries whose platform
// matches (the best as oci::ChoosePlatform says: containerd's rules), then the index entries
// whose platform matches, then the entries without a platform in order (an image manifest
// among them is taken when its config names a matching platform), followed up to
// kMaxIndexDepth levels of index (the reference's own is level 1). Attestations are never
// chosen nor followed: entries annotated "vnd.docker.reference.type": "attestation-manifest"
// and entries whose platform os is "unknown".
//
// The manifest chosen must be a container image (oci::CheckContainerImage): an artifact, a
// manifest with a config that is not an image config, a layer that is not a tar or a foreign
// layer is InvalidArgument "NAME:TAG is not a container image (...)" before anything else is
// fetched, so that a download and remote inspect refuse it alike.
//
// Errors: those of Client::GetManifest (a manifest asked by digest, the reference's or an
// entry's, is verified: DataLoss "... sent a manifest with digest ..."; Cancelled once
// `cancelled` says so), and of oci::ClassifyManifest / ParseIndex / ParseManifest (unknown
// media types, schema 1, malformed JSON); one NotFound when no entry fits, whatever the
// nesting: "no image for linux/s390x in this index; it has linux/amd64, linux/arm64/v8"
// (every image platform seen at any level; "it lists no platforms" when there were none),
// followed by " (indexes nested deeper than 3 levels are not followed)" when some were left.
// Thread-safe as the Client is.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "wharf/base/digest.h"
#include "wharf/base/status.h"
#include "wharf/oci/image.h"
#include "wharf/reference/reference.h"
#include "wharf/registry/client.h"

namespace wharf::registry {

inline constexpr int kMaxIndexDepth = 3;

struct ResolvedManifest {
  // What the reference names (the image's repo digest) and its Content-Type as served (may
  // be empty or "application/json": see oci::ClassifyManifest).
  Digest digest;
  std::string media_type;
  // The reference's index when it names one; empty when it names an image manifest.
  std::optional<oci::Index> index;
  // The platform's image manifest (the reference's own when it names one), as fetched and
  // parsed.
  ManifestResponse manifest;
  oci::Manifest parsed;
};

// Resolves `ref` (its digest if it has one, else its tag) to the image manifest for
// `platform`. `cancelled` (unset: never) is polled by every request, as Client::GetManifest
// says.
Result<ResolvedManifest> ResolveManifest(Client& client, const reference::Reference& ref,
                                         const oci::Platform& platform,
                                         const std::function<bool()>& cancelled = {});

}  // namespace wharf::registry
