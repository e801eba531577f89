#include "wharf/depot/catalog.h"

#include <nlohmann/json.hpp>
#include <set>

#include "wharf/reference/reference.h"

namespace wharf::depot {

namespace {

using nlohmann::json;

class EntryReader {
 public:
  EntryReader(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  Error Bad(std::string_view what) const {
    return InvalidArgument(where_ + ": " + std::string(what));
  }

  Result<std::string> Required(const char* key) const {
    auto it = obj_.find(key);
    if (it == obj_.end()) return Bad(std::string("missing \"") + key + "\"");
    if (!it->is_string()) return Bad(std::string("\"") + key + "\" must be a string");
    return it->get<std::string>();
  }
  Result<std::optional<std::string>> Optional(const char* key, bool nullable) const {
    auto it = obj_.find(key);
    if (it == obj_.end()) return std::optional<std::string>();
    if (nullable && it->is_null()) return std::optional<std::string>();
    if (!it->is_string()) {
      return Bad(std::string("\"") + key + "\" must be a string" + (nullable ? " or null" : ""));
    }
    return std::optional<std::string>(it->get<std::string>());
  }
  bool Has(const char* key) const { return obj_.contains(key); }

 private:
  const json& obj_;
  std::string where_;
};

bool IsHex64(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

Result<LxcSource> ParseSource(const json& obj, const std::string& where) {
  if (!obj.is_object()) return InvalidArgument(where + ": \"source\" must be an object");
  EntryReader r(obj, where + ": source");
  LxcSource s;
  WHARF_ASSIGN_OR_RETURN(auto protocol, r.Required("protocol"));
  s.protocol = protocol;
  if (s.protocol == "simplestreams" || s.protocol == "lxc-download") {
    for (auto [key, field] :
         {std::pair{"server", &s.server}, std::pair{"os", &s.os}, std::pair{"release", &s.release},
          std::pair{"arch", &s.arch}, std::pair{"variant", &s.variant}}) {
      WHARF_ASSIGN_OR_RETURN(auto v, r.Required(key));
      *field = v;
    }
    if (!s.server.starts_with("http://") && !s.server.starts_with("https://")) {
      return r.Bad("\"server\" must be an http:// or https:// URL");
    }
    if (auto it = obj.find("require_sha256sums"); it != obj.end()) {
      if (!it->is_boolean() || s.protocol != "lxc-download") {
        return r.Bad("\"require_sha256sums\" is true or false, for lxc-download sources");
      }
      s.require_sha256sums = it->get<bool>();
    }
    return s;
  }
  if (s.protocol == "url") {
    auto rootfs = r.Required("rootfs");
    auto sum = r.Required("rootfs_sha256");
    if (!rootfs) return Error(rootfs.error());
    if (!sum) return Error(sum.error());
    s.rootfs = *rootfs;
    s.rootfs_sha256 = *sum;
    if (!IsHex64(s.rootfs_sha256))
      return r.Bad("\"rootfs_sha256\" must be 64 lowercase hex digits");
    auto meta = r.Optional("meta", false);
    auto meta_sum = r.Optional("meta_sha256", false);
    if (!meta) return Error(meta.error());
    if (!meta_sum) return Error(meta_sum.error());
    if (meta->has_value() != meta_sum->has_value()) {
      return r.Bad("\"meta\" and \"meta_sha256\" go together");
    }
    if (meta->has_value()) {
      s.meta = **meta;
      s.meta_sha256 = **meta_sum;
      if (!IsHex64(s.meta_sha256)) return r.Bad("\"meta_sha256\" must be 64 lowercase hex digits");
    }
    return s;
  }
  return r.Bad("unknown protocol \"" + s.protocol + "\" (simplestreams, lxc-download or url)");
}

Result<CatalogEntry> ParseEntry(const json& obj, const std::string& where) {
  if (!obj.is_object()) return InvalidArgument(where + ": must be an object");
  EntryReader r(obj, where);
  CatalogEntry e;
  for (auto [key, field] :
       {std::pair{"name", &e.name}, std::pair{"type", &e.type}, std::pair{"title", &e.title},
        std::pair{"version", &e.version}, std::pair{"description", &e.description},
        std::pair{"icon", &e.icon}, std::pair{"arch", &e.arch}}) {
    WHARF_ASSIGN_OR_RETURN(auto v, r.Required(key));
    *field = v;
  }
  auto icon_local = r.Optional("icon_local", false);
  if (!icon_local) return Error(icon_local.error());
  e.icon_local = icon_local->value_or("");
  if (e.icon_local.find('/') != std::string::npos || e.icon_local.starts_with(".")) {
    return r.Bad("\"icon_local\" must be a plain file name");
  }
  if (e.name.empty()) return r.Bad("\"name\" must not be empty");
  if (e.type != "lxc" && e.type != "docker") return r.Bad("\"type\" must be lxc or docker");
  if (e.type == "docker") {
    if (auto ref = reference::ParseNameAndTag(e.name, e.version); !ref) {
      return r.Bad(ref.error().message);
    }
  } else if (e.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") !=
                 std::string::npos ||
             e.name.starts_with(".")) {
    return r.Bad("lxc names use lowercase letters, digits, '.' and '-'");
  }
  e.has_size = r.Has("size");
  auto size = r.Optional("size", true);
  auto inspect = r.Optional("inspect", false);
  auto location = r.Optional("location", false);
  if (!size) return Error(size.error());
  if (!inspect) return Error(inspect.error());
  if (!location) return Error(location.error());
  e.size = *size;
  if (e.size && e.size->find_first_not_of("0123456789") != std::string::npos) {
    return r.Bad("\"size\" must be a decimal string of bytes");
  }
  e.inspect = *inspect;
  e.location = *location;
  if (r.Has("source")) {
    if (e.type != "lxc") return r.Bad("\"source\" is only for lxc entries");
    WHARF_ASSIGN_OR_RETURN(auto source, ParseSource(obj["source"], where));
    e.source = source;
  } else if (e.type == "lxc") {
    return r.Bad("lxc entries need a \"source\"");
  }
  return e;
}

}  // namespace

const CatalogEntry* Catalog::Find(std::string_view type, std::string_view name) const {
  for (const auto& e : entries) {
    if (e.type == type && e.name == name) return &e;
  }
  return nullptr;
}

Result<Catalog> ParseCatalog(std::string_view json_text, std::string_view origin) {
  std::string o(origin);
  json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded()) return InvalidArgument(o + ": not valid JSON");
  if (!doc.is_object()) return InvalidArgument(o + ": must be a JSON object");
  auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer() || version->get<int>() != 1) {
    return InvalidArgument(o + ": \"version\" must be 1");
  }
  auto images = doc.find("images");
  if (images == doc.end() || !images->is_array()) {
    return InvalidArgument(o + ": \"images\" must be an array");
  }
  Catalog catalog;
  std::set<std::pair<std::string, std::string>> seen;
  for (size_t i = 0; i < images->size(); ++i) {
    std::string where = o + ": images[" + std::to_string(i) + "]";
    if ((*images)[i].is_object() && (*images)[i].contains("name") &&
        (*images)[i]["name"].is_string()) {
      where += " (" + (*images)[i]["name"].get<std::string>() + ")";
    }
    WHARF_ASSIGN_OR_RETURN(auto entry, ParseEntry((*images)[i], where));
    if (!seen.insert({entry.type, entry.name}).second) {
      return InvalidArgument(where + ": duplicate name");
    }
    catalog.entries.push_back(std::move(entry));
  }
  return catalog;
}

}  // namespace wharf::depot
