#include "wharf/service/inspect_view.h"

namespace wharf::service {

namespace {

std::string StringOr(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<nlohmann::json> BuildInspect(const InspectFacts& facts) {
  nlohmann::json config = nlohmann::json::parse(facts.config_json, nullptr, false);
  if (config.is_discarded() || !config.is_object()) {
    return DataLoss("image config " + facts.config_digest + " is not a JSON object");
  }
  auto object_or_empty = [&](const char* key) {
    auto it = config.find(key);
    return it != config.end() && it->is_object() ? *it : nlohmann::json::object();
  };
  nlohmann::json layers = nlohmann::json::array();
  if (auto rootfs = config.find("rootfs"); rootfs != config.end() && rootfs->is_object()) {
    if (auto ids = rootfs->find("diff_ids"); ids != rootfs->end() && ids->is_array()) {
      layers = *ids;
    }
  }
  std::string id = facts.config_digest.starts_with("sha256:") ? facts.config_digest.substr(7)
                                                              : facts.config_digest;
  nlohmann::json out = {
      {"Id", id},
      {"RepoTags", facts.repo_tags},
      {"RepoDigests", facts.repo_digests},
      {"Parent", StringOr(config, "parent")},
      {"Comment", StringOr(config, "comment")},
      {"Created", StringOr(config, "created")},
      {"Container", StringOr(config, "container")},
      {"ContainerConfig", object_or_empty("container_config")},
      {"DockerVersion", StringOr(config, "docker_version")},
      {"Author", StringOr(config, "author")},
      {"Config", object_or_empty("config")},
      {"Architecture", StringOr(config, "architecture")},
      {"Os", StringOr(config, "os")},
      {"Size", facts.size},
      {"VirtualSize", facts.size},
      {"RootFS", {{"Type", "layers"}, {"Layers", layers}}},
  };
  if (std::string variant = StringOr(config, "variant"); !variant.empty()) {
    out["Variant"] = variant;
  }
  return out;
}

}  // namespace wharf::service
