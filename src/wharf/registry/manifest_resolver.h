// The one walk from a reference to the image manifest of one platform, shared by downloads
// and remote inspect: fetch what the tag (or digest) names; if it is an index (OCI image
// index, Docker manifest list), pick the platform's entry and fetch that manifest.
//
// Indexes may nest, as containerd allows: an entry without a platform whose media type is an
// index is followed when no entry of its parent matches, up to kMaxIndexDepth levels of index
// (the reference's own is level 1). Attestations are never chosen nor followed: entries
// annotated "vnd.docker.reference.type": "attestation-manifest" and entries whose platform
// os is "unknown". Platforms match as oci::ChoosePlatform says (containerd's rules).
//
// Errors: those of Client::GetManifest (a manifest asked by digest, the reference's or an
// entry's, is verified: DataLoss "... sent a manifest with digest ..."; Cancelled once
// `cancelled` says so), and of oci::ClassifyManifest / ParseIndex / ParseManifest (unknown
// media types, schema 1, malformed JSON); NotFound "no image for linux/s390x in this index;
// it has linux/amd64, linux/arm64/v8" (every platform seen at any level) when no entry
// matches; InvalidArgument naming the index when indexes nest deeper than kMaxIndexDepth.
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
