// What makes a manifest a container image that wharf downloads, checked the same way by a
// download and by remote inspect, before any blob is fetched or stored. Pure, thread-safe.
#pragma once

#include <string_view>

#include "wharf/base/status.h"
#include "wharf/oci/image.h"

namespace wharf::oci {

// Success when `manifest` is a container image whose layers wharf can fetch and unpack.
// InvalidArgument otherwise, the message starting with `what` (the reference as the user
// named it, "NAME:TAG"):
//   "NAME:TAG is not a container image (artifact type T)"      artifactType set (OCI 1.1)
//   "NAME:TAG is not a container image (config media type T)"  a config that is not an image
//       config (Helm charts, signatures, SBOMs, application/vnd.oci.empty.v1+json)
//   "NAME:TAG is not a container image (layer media type T)"   a layer that is not a tar
//   "NAME:TAG has a non-distributable layer D ..."              foreign layers (their bytes
//       live outside the registry; wharf does not fetch them)
// A config descriptor without a media type is taken as an image config.
Result<void> CheckContainerImage(const Manifest& manifest, std::string_view what);

// Success when `config` describes the layers of `manifest` (one diff_id per layer); DataLoss
// "the manifest has N layers but the config lists M diff_ids" otherwise.
Result<void> CheckConfigFits(const Manifest& manifest, const ImageConfig& config);

}  // namespace wharf::oci
