#include "wharf/serve/repository_name.h"

#include <algorithm>

#include "wharf/reference/reference.h"

namespace wharf::serve {

namespace {

bool IsDockerHub(std::string_view host) {
  return host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io";
}

}  // namespace

DistResult<std::string> CanonicalRepository(std::string_view name, std::string_view ns) {
  if (name.empty()) return DistFail(400, "NAME_INVALID", "empty repository name");
  // The Distribution API's names are lower case throughout; in a Docker reference an upper-case
  // first component would be read as a registry host (Docker/docker), which a path is not.
  if (std::ranges::any_of(name, [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return DistFail(400, "NAME_INVALID",
                    "repository name \"" + std::string(name) + "\" has upper-case letters");
  }
  std::string full(name);
  if (!ns.empty()) {
    std::string domain(reference::kDockerHubDomain);
    if (!IsDockerHub(ns)) {
      auto host = reference::ParseNameAndTag(std::string(ns) + "/x", "latest");
      if (!host || host->path != "x" || host->domain != ns) {
        return DistFail(400, "NAME_INVALID",
                        "ns \"" + std::string(ns) + "\" is not a registry host");
      }
      domain = host->domain;
    }
    full = domain + "/" + std::string(name);
  }
  auto ref = reference::ParseNameAndTag(full, "latest");
  if (!ref) return DistFail(400, "NAME_INVALID", ref.error().message);
  return ref->Name();
}

std::string ServedName(std::string_view canonical) {
  constexpr std::string_view kHub = "docker.io/";
  if (canonical.starts_with(kHub)) return std::string(canonical.substr(kHub.size()));
  return std::string(canonical);
}

std::string FamiliarName(std::string_view canonical) {
  auto ref = reference::ParseNameAndTag(canonical, "latest");
  return ref ? ref->Familiar() : std::string(canonical);
}

}  // namespace wharf::serve
