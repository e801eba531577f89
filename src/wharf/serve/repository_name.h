// Repository names as Distribution clients send them, and the canonical names wharf stores.
// A Docker Hub image is served under its Docker Hub path, so that a client configured with
// wharf as a mirror (or as a registry) asks for what it would ask Docker Hub:
//   "ubuntu", "library/ubuntu"           → "docker.io/library/ubuntu"
//   "lgsd/diamond"                       → "docker.io/lgsd/diamond"
// An image of another registry is served under "<registry host>/<path>", one repository name
// ("ghcr.io/home-assistant/home-assistant"), or under its path alone when the client names
// the registry with containerd's `ns` query parameter (`?ns=ghcr.io`, as containerd mirrors
// do). Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "wharf/serve/dist_error.h"

namespace wharf::serve {

// The canonical name for `name` (the path between "/v2/" and "/manifests/"...) and `ns` (the
// `ns` query parameter, or ""). NAME_INVALID (400) naming what is wrong when the name breaks
// Docker's reference grammar (upper case, "..", empty components, over 255 characters) or
// `ns` is not a registry host.
DistResult<std::string> CanonicalRepository(std::string_view name, std::string_view ns);

// The name a canonical name is served under: "docker.io/library/ubuntu" → "library/ubuntu",
// "ghcr.io/a/b" → "ghcr.io/a/b".
std::string ServedName(std::string_view canonical);

// Docker's short form of a canonical name, as downloads are listed: "ubuntu", "lgsd/diamond",
// "ghcr.io/a/b".
std::string FamiliarName(std::string_view canonical);

}  // namespace wharf::serve
