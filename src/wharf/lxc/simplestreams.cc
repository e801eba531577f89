#include "wharf/lxc/simplestreams.h"

#include <nlohmann/json.hpp>

#include "wharf/base/strings.h"
#include "wharf/lxc/arch.h"

namespace wharf::lxc {

namespace {

using nlohmann::json;

std::string StringField(const json& obj, const char* key, const std::string& fallback = "") {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// A product's variant: its "variant" field, else the fourth part of an id spelled
// "os:release:arch:variant"; "" when neither names one (such a product matches no query:
// taking it as "default" would let a newer "...:test" build pass for the default one).
std::string ProductVariant(const std::string& id, const json& product) {
  std::string variant = StringField(product, "variant");
  if (!variant.empty()) return variant;
  size_t colons = 0;
  size_t last = std::string::npos;
  for (size_t i = 0; i < id.size(); ++i) {
    if (id[i] == ':') {
      ++colons;
      last = i;
    }
  }
  return colons == 3 ? id.substr(last + 1) : "";
}

bool Matches(const std::string& id, const json& product, const ImageQuery& q) {
  if (!product.is_object()) return false;
  return EqualsIgnoreCase(StringField(product, "os"), q.os) &&
         StringField(product, "release") == q.release &&
         DebianArch(StringField(product, "arch")) == DebianArch(q.arch) &&
         ProductVariant(id, product) == q.variant;
}

// Whether a version holds only what Incus and LXD use (their metadata tarball, a squashfs or
// a VM disk), not LXC's root.tar.xz.
bool HasIncusItems(const json& version) {
  if (!version.is_object()) return false;
  auto items = version.find("items");
  if (items == version.end() || !items->is_object()) return false;
  for (const auto& [key, item] : items->items()) {
    std::string ftype = item.is_object() ? StringField(item, "ftype") : "";
    if (ftype == "incus.tar.xz" || ftype == "lxd.tar.xz" || ftype == "squashfs" ||
        ftype == "root.squashfs" || ftype.starts_with("disk-kvm")) {
      return true;
    }
  }
  return false;
}

// The root.tar.xz item of a version, or nullptr.
const json* RootItem(const json& version) {
  if (!version.is_object()) return nullptr;
  auto items = version.find("items");
  if (items == version.end() || !items->is_object()) return nullptr;
  for (const auto& [key, item] : items->items()) {
    if (item.is_object() && StringField(item, "ftype") == "root.tar.xz") return &item;
  }
  return nullptr;
}

Result<RemoteFile> ReadItem(const json& item, const std::string& where) {
  RemoteFile file;
  file.path = StringField(item, "path");
  if (!IsSafeServerPath(file.path, false)) {
    return InvalidArgument(where + ": unsafe item path \"" + file.path + "\"");
  }
  auto sha = NormalizeSha256(StringField(item, "sha256"));
  if (!sha) return InvalidArgument(where + ": the root.tar.xz item has no valid sha256");
  file.sha256 = *sha;
  auto size = item.find("size");
  if (size == item.end() || !size->is_number_integer() || size->get<int64_t>() <= 0) {
    return InvalidArgument(where + ": the root.tar.xz item has no valid size");
  }
  file.size = size->get<int64_t>();
  return file;
}

}  // namespace

Result<std::vector<std::string>> ParseStreamsIndex(std::string_view index_json) {
  json doc = json::parse(index_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgument("streams/v1/index.json is not a JSON object");
  }
  auto index = doc.find("index");
  if (index == doc.end() || !index->is_object()) {
    return InvalidArgument("streams/v1/index.json has no \"index\" object");
  }
  std::vector<std::string> paths;
  for (const auto& [name, entry] : index->items()) {
    if (!entry.is_object() || StringField(entry, "datatype") != "image-downloads") continue;
    std::string path = StringField(entry, "path");
    if (!IsSafeServerPath(path, false)) {
      return InvalidArgument("streams/v1/index.json: unsafe path \"" + path + "\" for " + name);
    }
    paths.push_back(path);
  }
  if (paths.empty()) return NotFound("streams/v1/index.json names no image-downloads products");
  return paths;
}

Result<SimplestreamsBuild> FindSimplestreamsBuild(std::string_view products_json,
                                                  const ImageQuery& query) {
  json doc = json::parse(products_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgument("the products file is not a JSON object");
  }
  auto products = doc.find("products");
  if (products == doc.end() || !products->is_object()) {
    return InvalidArgument("the products file has no \"products\" object");
  }
  // serial → (product id, version) over every matching product; only builds with a rootfs.
  std::vector<std::string> serials;
  std::vector<std::pair<std::string, const json*>> builds;
  bool product_found = false;
  bool incus_only = false;
  for (const auto& [id, product] : products->items()) {
    if (!Matches(id, product, query)) continue;
    product_found = true;
    auto versions = product.find("versions");
    if (versions == product.end() || !versions->is_object()) continue;
    for (const auto& [serial, version] : versions->items()) {
      if (RootItem(version) == nullptr) {
        incus_only = incus_only || HasIncusItems(version);
        continue;
      }
      serials.push_back(serial);
      builds.emplace_back(id, &version);
    }
  }
  if (!product_found) return NotFound("no product " + query.Describe() + " on the server");
  auto serial = PickSerial(serials, query.serial);
  if (!serial) {
    if (!query.serial.empty()) {
      return NotFound("build " + query.serial + " of " + query.Describe() +
                      " is not on the server");
    }
    if (incus_only) {
      return NotFound("no build of " + query.Describe() + " has a root.tar.xz, only Incus/LXD " +
                      "images (incus.tar.xz, squashfs): an Incus/LXD-only simplestreams server, " +
                      "whose images lxc-create cannot use");
    }
    return NotFound("no build of " + query.Describe() + " has a root.tar.xz");
  }
  for (size_t i = 0; i < serials.size(); ++i) {
    if (serials[i] != *serial) continue;
    std::string where = "product " + builds[i].first + " version " + *serial;
    WHARF_ASSIGN_OR_RETURN(auto rootfs, ReadItem(*RootItem(*builds[i].second), where));
    SimplestreamsBuild build;
    build.serial = *serial;
    build.rootfs = rootfs;
    size_t slash = rootfs.path.rfind('/');
    build.dir = slash == std::string::npos ? "" : rootfs.path.substr(0, slash + 1);
    return build;
  }
  return Internal("picked serial " + *serial + " vanished");
}

}  // namespace wharf::lxc
