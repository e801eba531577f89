#include "wharf/lxc/lxc_image.h"

#include <nlohmann/json.hpp>

namespace wharf::lxc {

namespace {

bool PlainName(const std::string& s) {
  if (s.empty() || s.front() == '.') return false;
  return s.find_first_not_of(
             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:+-") ==
         std::string::npos;
}

std::string Str(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

bool CacheKey::Valid() const {
  return PlainName(dist) && PlainName(release) && PlainName(arch) && PlainName(variant);
}

std::string CacheKey::RelativePath() const {
  return dist + "/" + release + "/" + arch + "/" + variant;
}

std::string LxcImageInfo::ToJson() const {
  nlohmann::json files_json = nlohmann::json::array();
  for (const auto& f : files) {
    files_json.push_back(
        {{"role", f.role}, {"digest", f.digest}, {"size", f.size}, {"url", f.url}});
  }
  nlohmann::json j = {{"lxc", true},
                      {"serial", serial},
                      {"protocol", protocol},
                      {"server", server},
                      {"files", std::move(files_json)}};
  if (cache_key) {
    j["cache"] = {{"dist", cache_key->dist},
                  {"release", cache_key->release},
                  {"arch", cache_key->arch},
                  {"variant", cache_key->variant}};
  }
  return j.dump();
}

std::optional<LxcImageInfo> LxcImageInfo::FromJson(const std::string& extra) {
  auto j = nlohmann::json::parse(extra, nullptr, false);
  if (!j.is_object() || !j.value("lxc", false)) return std::nullopt;
  LxcImageInfo info;
  info.serial = Str(j, "serial");
  info.protocol = Str(j, "protocol");
  info.server = Str(j, "server");
  if (auto files = j.find("files"); files != j.end() && files->is_array()) {
    for (const auto& f : *files) {
      if (!f.is_object()) continue;
      auto size = f.find("size");
      info.files.push_back({Str(f, "role"), Str(f, "digest"),
                            size != f.end() && size->is_number_integer() ? size->get<int64_t>() : 0,
                            Str(f, "url")});
    }
  }
  if (auto c = j.find("cache"); c != j.end() && c->is_object()) {
    CacheKey key{Str(*c, "dist"), Str(*c, "release"), Str(*c, "arch"), Str(*c, "variant")};
    if (key.Valid()) info.cache_key = key;
  }
  return info;
}

const LxcFile* LxcImageInfo::File(const std::string& role) const {
  for (const auto& f : files) {
    if (f.role == role) return &f;
  }
  return nullptr;
}

}  // namespace wharf::lxc
