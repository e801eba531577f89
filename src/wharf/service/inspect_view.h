// Builds Docker's image-inspect JSON (the shape `docker image inspect` and the Container
// Station API answer) from an image config. Architecture, Os, Created and RootFS.Layers are
// taken from the config as podman reports them. Config and ContainerConfig hold every field
// the image config sets, unchanged, plus the keys of Docker's container-config shape that it
// leaves out, with Docker's empty defaults; the remaining top-level keys get Docker's empty
// defaults too.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wharf/base/status.h"

namespace wharf::service {

struct InspectFacts {
  std::string config_json;                // the image config blob
  std::string config_digest;              // "sha256:..."
  std::vector<std::string> repo_tags;     // "ubuntu:latest"
  std::vector<std::string> repo_digests;  // "ubuntu@sha256:..."
  int64_t size = 0;
};

Result<nlohmann::json> BuildInspect(const InspectFacts& facts);

// An RFC 3339 time as Go (and so podman and Docker) writes it back: trailing zeros of the
// fraction dropped, a zero offset as "Z", other offsets kept. Anything else is returned as is.
std::string GoTimeString(const std::string& rfc3339);

}  // namespace wharf::service
