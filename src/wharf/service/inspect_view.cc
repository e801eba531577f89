#include "wharf/service/inspect_view.h"

namespace wharf::service {

namespace {

std::string StringOr(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Docker's container-config shape, as the documented inspect example shows it: keys the image
// config leaves out get these values; keys it has are kept as they are, so every field the
// image sets (and podman reports) is unchanged.
nlohmann::json WithDockerDefaults(nlohmann::json config) {
  static const nlohmann::json kDefaults = nlohmann::json::parse(R"({
    "AttachStderr": false, "AttachStdin": false, "AttachStdout": false, "Cmd": null,
    "CpuShares": 0, "Cpuset": "", "Domainname": "", "Entrypoint": null, "Env": null,
    "ExposedPorts": null, "Hostname": "", "Image": "", "Labels": {}, "MacAddress": "",
    "Memory": 0, "MemorySwap": 0, "NetworkDisabled": false, "OnBuild": null,
    "OpenStdin": false, "PortSpecs": null, "StdinOnce": false, "Tty": false, "User": "",
    "Volumes": null, "WorkingDir": ""})");
  for (auto it = kDefaults.begin(); it != kDefaults.end(); ++it) {
    if (!config.contains(it.key())) config[it.key()] = it.value();
  }
  return config;
}

}  // namespace

std::string GoTimeString(const std::string& rfc3339) {
  // YYYY-MM-DDTHH:MM:SS[.digits](Z|+HH:MM|-HH:MM)
  auto digits = [&](size_t from, size_t n) {
    if (from + n > rfc3339.size()) return false;
    for (size_t i = from; i < from + n; ++i) {
      if (rfc3339[i] < '0' || rfc3339[i] > '9') return false;
    }
    return true;
  };
  const std::string& t = rfc3339;
  if (!digits(0, 4) || t[4] != '-' || !digits(5, 2) || t[7] != '-' || !digits(8, 2) ||
      t.size() < 20 || t[10] != 'T' || !digits(11, 2) || t[13] != ':' || !digits(14, 2) ||
      t[16] != ':' || !digits(17, 2)) {
    return rfc3339;
  }
  size_t pos = 19;
  std::string fraction;
  if (t[pos] == '.') {
    size_t end = pos + 1;
    while (end < t.size() && t[end] >= '0' && t[end] <= '9') ++end;
    if (end == pos + 1 || end - pos - 1 > 9) return rfc3339;
    fraction = t.substr(pos + 1, end - pos - 1);
    pos = end;
  }
  std::string zone = t.substr(pos);
  if (zone == "+00:00" || zone == "-00:00") {
    zone = "Z";
  } else if (zone != "Z" && !(zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') &&
                              digits(pos + 1, 2) && zone[3] == ':' && digits(pos + 4, 2))) {
    return rfc3339;
  }
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  return t.substr(0, 19) + (fraction.empty() ? "" : "." + fraction) + zone;
}

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
      {"Created", GoTimeString(StringOr(config, "created"))},
      {"Container", StringOr(config, "container")},
      {"ContainerConfig", WithDockerDefaults(object_or_empty("container_config"))},
      {"DockerVersion", StringOr(config, "docker_version")},
      {"Author", StringOr(config, "author")},
      {"Config", WithDockerDefaults(object_or_empty("config"))},
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
