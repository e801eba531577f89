#include "wharf/serve/repository_name.h"

#include "wharf/reference/reference.h"

namespace wharf::serve {

namespace {

bool IsDockerHub(std::string_view host) {
  return host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io";
}

}  // namespace

DistResult<std::string> CanonicalRepository(std::string_view name, std::string_view ns) {
  if (name.empty()) return DistFail(400, "NAME_INVALID", "empty repository name");
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
