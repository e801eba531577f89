#include "wharf/oci/image_checks.h"

#include <string>

namespace wharf::oci {

namespace {

std::string Bounded(std::string_view text) { return std::string(text.substr(0, 200)); }

Error NotAnImage(std::string_view what, std::string_view kind, std::string_view type) {
  return InvalidArgument(std::string(what) + " is not a container image (" + std::string(kind) +
                         " " + Bounded(type) + ")");
}

}  // namespace

Result<void> CheckContainerImage(const Manifest& manifest, std::string_view what) {
  if (!manifest.artifact_type.empty()) {
    return NotAnImage(what, "artifact type", manifest.artifact_type);
  }
  const std::string& config_type = manifest.config.media_type;
  if (!config_type.empty() && config_type != kOciConfig && config_type != kDockerConfig) {
    return NotAnImage(what, "config media type", config_type);
  }
  for (const Descriptor& layer : manifest.layers) {
    if (IsNonDistributableLayer(layer.media_type)) {
      return InvalidArgument(std::string(what) + " has a non-distributable layer " +
                             layer.digest.str() + " (" + Bounded(layer.media_type) +
                             "): its bytes live outside the registry, and wharf does not "
                             "fetch them");
    }
    if (!LayerCompression(layer.media_type)) {
      return NotAnImage(what, "layer media type", layer.media_type);
    }
  }
  return {};
}

Result<void> CheckConfigFits(const Manifest& manifest, const ImageConfig& config) {
  if (config.diff_ids.size() != manifest.layers.size()) {
    return DataLoss("the manifest has " + std::to_string(manifest.layers.size()) +
                    " layers but the config lists " + std::to_string(config.diff_ids.size()) +
                    " diff_ids");
  }
  return {};
}

}  // namespace wharf::oci
