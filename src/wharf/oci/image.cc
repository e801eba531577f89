#include "wharf/oci/image.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <nlohmann/json.hpp>

#include "wharf/base/strings.h"

namespace wharf::oci {

namespace {

using Json = nlohmann::json;

constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
constexpr std::string_view kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
constexpr std::string_view kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
constexpr std::string_view kOciNondistributablePrefix =
    "application/vnd.oci.image.layer.nondistributable.";
constexpr std::string_view kDockerForeignLayerPrefix =
    "application/vnd.docker.image.rootfs.foreign.";

std::string Quote(std::string_view s) { return "\"" + std::string(s.substr(0, 200)) + "\""; }

Error Schema1Error(std::string_view what) {
  return InvalidArgument("Docker schema 1 manifests are not supported (" + std::string(what) +
                         "); push the image again with a current Docker or skopeo");
}

bool IsSchema1(std::string_view media_type) {
  return media_type == kDockerSchema1 || media_type == kDockerSchema1Signed;
}

// Parses `body` as a JSON object. nlohmann is asked not to throw; `what` names the document.
Result<Json> ParseObject(std::string_view body, std::string_view what) {
  Json json = Json::parse(body, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return InvalidArgument(std::string(what) + " is not valid JSON");
  if (!json.is_object()) return InvalidArgument(std::string(what) + " is not a JSON object");
  return json;
}

// The string at `key`, or `fallback` when the key is absent; error when it is not a string.
Result<std::string> OptionalString(const Json& object, const char* key, std::string_view where,
                                   std::string fallback = "") {
  auto it = object.find(key);
  if (it == object.end()) return fallback;
  if (!it->is_string()) {
    return InvalidArgument(std::string(where) + ": \"" + key + "\" is not a string");
  }
  return it->get<std::string>();
}

// The array at `key` (required); error names `where`.
Result<const Json*> RequiredArray(const Json& object, const char* key, std::string_view where) {
  auto it = object.find(key);
  if (it == object.end()) {
    return InvalidArgument(std::string(where) + " has no \"" + key + "\"");
  }
  if (!it->is_array()) {
    return InvalidArgument(std::string(where) + ": \"" + key + "\" is not an array");
  }
  return &*it;
}

Result<void> CheckSchemaVersion2(const Json& object, std::string_view where) {
  auto it = object.find("schemaVersion");
  if (it == object.end()) return InvalidArgument(std::string(where) + " has no schemaVersion");
  if (it->is_number_integer() && it->get<int64_t>() == 1) return Schema1Error("schemaVersion 1");
  if (!it->is_number_integer() || it->get<int64_t>() != 2) {
    return InvalidArgument(std::string(where) + " has schemaVersion " + it->dump() +
                           "; only 2 is supported");
  }
  return {};
}

Result<Platform> ParseDescriptorPlatform(const Json& json, const std::string& where) {
  if (!json.is_object()) return InvalidArgument(where + ": \"platform\" is not an object");
  WHARF_ASSIGN_OR_RETURN(auto os, OptionalString(json, "os", where + ".platform"));
  WHARF_ASSIGN_OR_RETURN(auto arch, OptionalString(json, "architecture", where + ".platform"));
  WHARF_ASSIGN_OR_RETURN(auto variant, OptionalString(json, "variant", where + ".platform"));
  return Platform{std::move(os), std::move(arch), std::move(variant)};
}

Result<Descriptor> ParseDescriptor(const Json& json, const std::string& where) {
  if (!json.is_object()) return InvalidArgument(where + " is not an object");
  Descriptor desc;
  WHARF_ASSIGN_OR_RETURN(auto media_type, OptionalString(json, "mediaType", where));
  if (media_type.empty()) return InvalidArgument(where + " has no mediaType");
  desc.media_type = std::move(media_type);

  WHARF_ASSIGN_OR_RETURN(auto digest_text, OptionalString(json, "digest", where));
  auto digest = Digest::Parse(digest_text);
  if (!digest) return InvalidArgument(where + ": " + digest.error().message);
  desc.digest = std::move(*digest);

  auto size = json.find("size");
  if (size == json.end() || !size->is_number_integer()) {
    return InvalidArgument(where + " has no integer \"size\"");
  }
  if (size->is_number_unsigned() &&
      size->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return InvalidArgument(where + " has size " + size->dump() + ", too large");
  }
  desc.size = size->get<int64_t>();
  if (desc.size < 0) return InvalidArgument(where + " has negative size " + size->dump());

  if (auto platform = json.find("platform"); platform != json.end()) {
    WHARF_ASSIGN_OR_RETURN(auto parsed, ParseDescriptorPlatform(*platform, where));
    desc.platform = std::move(parsed);
  }
  if (auto annotations = json.find("annotations"); annotations != json.end()) {
    if (!annotations->is_object()) return InvalidArgument(where + ": annotations is not an object");
    for (const auto& [key, value] : annotations->items()) {
      if (!value.is_string()) {
        return InvalidArgument(where + ": annotation " + Quote(key) + " is not a string");
      }
      desc.annotations.emplace(key, value.get<std::string>());
    }
  }
  return desc;
}

Result<std::vector<Descriptor>> ParseDescriptors(const Json& array, std::string_view name) {
  std::vector<Descriptor> out;
  out.reserve(array.size());
  for (size_t i = 0; i < array.size(); ++i) {
    WHARF_ASSIGN_OR_RETURN(
        auto desc, ParseDescriptor(array[i], std::string(name) + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(desc));
  }
  return out;
}

Result<ManifestKind> KindOfMediaType(std::string_view media_type) {
  if (media_type == kOciManifest || media_type == kDockerManifest) return ManifestKind::kImage;
  if (media_type == kOciIndex || media_type == kDockerManifestList) return ManifestKind::kIndex;
  if (IsSchema1(media_type)) return Schema1Error(media_type);
  return InvalidArgument("unsupported manifest media type " + Quote(media_type));
}

// Reads the body's mediaType for Parse{Manifest,Index}: absent means `fallback` (OCI allows
// leaving it out), otherwise it must be of kind `want`.
Result<std::string> DocumentMediaType(const Json& json, ManifestKind want, std::string_view what,
                                      std::string_view fallback) {
  auto media_type = OptionalString(json, "mediaType", what, std::string(fallback));
  if (!media_type) return Error(media_type.error());
  WHARF_ASSIGN_OR_RETURN(auto kind, KindOfMediaType(*media_type));
  if (kind != want) {
    return InvalidArgument(std::string(what) + " has media type " + Quote(*media_type));
  }
  return media_type;
}

// Runs a parse that reads JSON. Fields are type-checked before they are read, so nlohmann should
// never throw; this keeps a missed check from becoming an exception across the module boundary.
template <typename ParseFn>
auto WithoutJsonExceptions(std::string_view what, ParseFn parse) -> decltype(parse()) {
  try {
    return parse();
  } catch (const Json::exception& e) {
    return InvalidArgument(std::string(what) + ": " + e.what());
  }
}

// Maps containerd's architecture aliases and default variants; see Normalize.
void NormalizeArchitecture(Platform& p) {
  std::string& arch = p.architecture;
  std::string& variant = p.variant;
  if (arch == "aarch64" || arch == "arm64") {
    arch = "arm64";
    if (variant.empty() || variant == "8" || variant == "v8") variant = "v8";
  } else if (arch == "x86_64" || arch == "x86-64" || arch == "amd64") {
    arch = "amd64";
    if (variant == "v1") variant.clear();
  } else if (arch == "i386" || arch == "i686") {
    arch = "386";
  } else if (arch == "armhf") {
    arch = "arm";
    variant = "v7";
  } else if (arch == "armel") {
    arch = "arm";
    variant = "v6";
  } else if (arch == "arm" || arch.starts_with("armv")) {
    // uname reports 32-bit ARM as "armv7l", "armv6l", ...; the digit is the variant.
    if (arch.starts_with("armv") && arch.size() > 4) variant = "v" + arch.substr(4, 1);
    arch = "arm";
    if (variant.empty()) variant = "v7";
    if (variant.size() == 1 && std::isdigit(static_cast<unsigned char>(variant[0]))) {
      variant.insert(0, "v");
    }
  }
}

}  // namespace

std::string ManifestAcceptHeader() {
  std::string header;
  for (std::string_view type : {kOciManifest, kOciIndex, kDockerManifest, kDockerManifestList}) {
    if (!header.empty()) header += ", ";
    header += type;
  }
  return header;
}

std::string Platform::String() const {
  std::string out = os + "/" + architecture;
  if (!variant.empty()) out += "/" + variant;
  return out;
}

Result<Platform> ParsePlatform(std::string_view text) {
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    size_t slash = text.find('/', start);
    parts.emplace_back(text.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  auto valid_part = [](const std::string& part) {
    return !part.empty() && std::ranges::all_of(part, [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
  };
  if (parts.size() < 2 || parts.size() > 3 || !std::ranges::all_of(parts, valid_part)) {
    return InvalidArgument("invalid platform " + Quote(text) + "; want os/arch[/variant]");
  }
  Platform platform{parts[0], parts[1], parts.size() == 3 ? parts[2] : ""};
  return Normalize(std::move(platform));
}

Platform Normalize(Platform p) {
  p.os = Lower(p.os);
  p.architecture = Lower(p.architecture);
  p.variant = Lower(p.variant);
  if (p.os == "macos") p.os = "darwin";
  NormalizeArchitecture(p);
  return p;
}

Platform HostPlatform() {
  struct utsname name {};
  if (uname(&name) != 0) return Normalize(Platform{"linux", "amd64", ""});
  return Normalize(Platform{name.sysname, name.machine, ""});
}

bool Matches(const Platform& want, const Platform& have) {
  Platform w = Normalize(want);
  Platform h = Normalize(have);
  return w.os == h.os && w.architecture == h.architecture &&
         (w.variant.empty() || w.variant == h.variant);
}

bool IsNonDistributableLayer(std::string_view media_type) {
  return media_type.starts_with(kOciNondistributablePrefix) ||
         media_type.starts_with(kDockerForeignLayerPrefix);
}

Result<Compression> LayerCompression(std::string_view media_type) {
  if (media_type == kOciLayer || media_type == kDockerLayer) return Compression::kNone;
  if (media_type == kOciLayerGzip || media_type == kDockerLayerGzip) return Compression::kGzip;
  if (media_type == kOciLayerZstd) return Compression::kZstd;
  if (IsNonDistributableLayer(media_type)) {
    return InvalidArgument("non-distributable layer " + Quote(media_type) +
                           " is not supported: its bytes live outside the registry");
  }
  return InvalidArgument("unsupported layer media type " + Quote(media_type));
}

namespace {

Result<ManifestKind> ClassifyManifestUnguarded(std::string_view content_type,
                                               std::string_view body) {
  const std::string type = Lower(Trim(content_type.substr(0, content_type.find(';'))));
  if (!type.empty() && type != "application/json" && type != "text/plain" &&
      type != "application/octet-stream") {
    return KindOfMediaType(type);
  }
  WHARF_ASSIGN_OR_RETURN(auto json, ParseObject(body, "manifest"));
  if (auto version = json.find("schemaVersion");
      version != json.end() && version->is_number_integer() && version->get<int64_t>() == 1) {
    return Schema1Error("schemaVersion 1");
  }
  WHARF_ASSIGN_OR_RETURN(auto media_type, OptionalString(json, "mediaType", "manifest"));
  if (!media_type.empty()) return KindOfMediaType(media_type);
  if (json.contains("manifests")) return ManifestKind::kIndex;
  if (json.contains("config") && json.contains("layers")) return ManifestKind::kImage;
  return InvalidArgument(
      "cannot tell what kind of manifest this is: it has no mediaType, no \"manifests\" and no "
      "\"config\" with \"layers\"");
}

Result<Manifest> ParseManifestUnguarded(std::string_view body) {
  WHARF_ASSIGN_OR_RETURN(auto json, ParseObject(body, "image manifest"));
  WHARF_RETURN_IF_ERROR(CheckSchemaVersion2(json, "image manifest"));
  Manifest manifest;
  WHARF_ASSIGN_OR_RETURN(auto media_type, DocumentMediaType(json, ManifestKind::kImage,
                                                            "image manifest", kOciManifest));
  manifest.media_type = std::move(media_type);
  WHARF_ASSIGN_OR_RETURN(auto artifact_type,
                         OptionalString(json, "artifactType", "image manifest"));
  manifest.artifact_type = std::move(artifact_type);

  auto config = json.find("config");
  if (config == json.end()) return InvalidArgument("image manifest has no config");
  WHARF_ASSIGN_OR_RETURN(auto config_desc, ParseDescriptor(*config, "image manifest config"));
  manifest.config = std::move(config_desc);

  auto layers = RequiredArray(json, "layers", "image manifest");
  if (!layers) return Error(layers.error());
  WHARF_ASSIGN_OR_RETURN(auto layer_descs, ParseDescriptors(**layers, "image manifest layers"));
  manifest.layers = std::move(layer_descs);
  return manifest;
}

Result<Index> ParseIndexUnguarded(std::string_view body) {
  WHARF_ASSIGN_OR_RETURN(auto json, ParseObject(body, "image index"));
  WHARF_RETURN_IF_ERROR(CheckSchemaVersion2(json, "image index"));
  Index index;
  WHARF_ASSIGN_OR_RETURN(auto media_type,
                         DocumentMediaType(json, ManifestKind::kIndex, "image index", kOciIndex));
  index.media_type = std::move(media_type);

  auto manifests = RequiredArray(json, "manifests", "image index");
  if (!manifests) return Error(manifests.error());
  WHARF_ASSIGN_OR_RETURN(auto descs, ParseDescriptors(**manifests, "image index manifests"));
  index.manifests = std::move(descs);
  return index;
}

Result<ImageConfig> ParseConfigUnguarded(std::string_view body) {
  WHARF_ASSIGN_OR_RETURN(auto json, ParseObject(body, "image config"));
  ImageConfig config;
  for (auto [key, field] :
       {std::pair{"architecture", &config.architecture}, std::pair{"os", &config.os},
        std::pair{"variant", &config.variant}, std::pair{"created", &config.created}}) {
    WHARF_ASSIGN_OR_RETURN(auto value, OptionalString(json, key, "image config"));
    *field = std::move(value);
  }

  auto rootfs = json.find("rootfs");
  if (rootfs == json.end() || !rootfs->is_object()) {
    return InvalidArgument("image config has no \"rootfs\" object");
  }
  WHARF_ASSIGN_OR_RETURN(auto rootfs_type, OptionalString(*rootfs, "type", "image config rootfs"));
  if (rootfs_type != "layers") {
    return InvalidArgument("image config rootfs.type is " + Quote(rootfs_type) +
                           ", not \"layers\"");
  }
  auto diff_ids = RequiredArray(*rootfs, "diff_ids", "image config rootfs");
  if (!diff_ids) return Error(diff_ids.error());
  for (size_t i = 0; i < (*diff_ids)->size(); ++i) {
    const Json& item = (**diff_ids)[i];
    const std::string where = "image config rootfs.diff_ids[" + std::to_string(i) + "]";
    if (!item.is_string()) return InvalidArgument(where + " is not a string");
    auto digest = Digest::Parse(item.get<std::string>());
    if (!digest) return InvalidArgument(where + ": " + digest.error().message);
    config.diff_ids.push_back(std::move(*digest));
  }
  config.raw = std::string(body);
  return config;
}

}  // namespace

Result<ManifestKind> ClassifyManifest(std::string_view content_type, std::string_view body) {
  return WithoutJsonExceptions("manifest",
                               [&] { return ClassifyManifestUnguarded(content_type, body); });
}

Result<Manifest> ParseManifest(std::string_view body) {
  return WithoutJsonExceptions("image manifest", [&] { return ParseManifestUnguarded(body); });
}

Result<Index> ParseIndex(std::string_view body) {
  return WithoutJsonExceptions("image index", [&] { return ParseIndexUnguarded(body); });
}

Result<Descriptor> ChoosePlatform(const Index& index, const Platform& want) {
  const Descriptor* first_match = nullptr;
  const Platform wanted = Normalize(want);
  std::vector<std::string> available;
  for (const Descriptor& desc : index.manifests) {
    if (!desc.platform) continue;
    const Platform have = Normalize(*desc.platform);
    if (have.os == "unknown") continue;  // attestations and other non-image entries
    if (std::string name = have.String(); std::ranges::find(available, name) == available.end()) {
      available.push_back(std::move(name));
    }
    if (!Matches(wanted, have)) continue;
    if (have.variant == wanted.variant) return desc;
    if (first_match == nullptr) first_match = &desc;
  }
  if (first_match != nullptr) return *first_match;

  std::string message = "no image for " + wanted.String() + " in this index; ";
  if (available.empty()) {
    message += "it lists no platforms";
  } else {
    message += "it has ";
    for (size_t i = 0; i < available.size(); ++i) {
      if (i > 0) message += ", ";
      message += available[i];
    }
  }
  return NotFound(std::move(message));
}

Result<ImageConfig> ParseConfig(std::string_view body) {
  return WithoutJsonExceptions("image config", [&] { return ParseConfigUnguarded(body); });
}

}  // namespace wharf::oci
