// OCI and Docker image JSON: media types, descriptors, manifests, indexes (manifest lists),
// image configs, and platform matching. Pure parsing, no I/O, thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/base/digest.h"
#include "wharf/base/status.h"

namespace wharf::oci {

inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerSchema1 =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

// The Accept header value a client sends to get any of the supported manifest kinds.
std::string ManifestAcceptHeader();

enum class Compression { kNone, kGzip, kZstd };

struct Platform {
  std::string os;            // "linux"
  std::string architecture;  // "amd64", "arm64", "arm"
  std::string variant;       // "v8", "v7", or empty

  // "linux/arm64/v8" (variant omitted when empty)
  std::string String() const;
  friend bool operator==(const Platform&, const Platform&) = default;
};

// Parses "os/arch[/variant]"; normalises like containerd (aarch64→arm64, x86_64→amd64,
// arm64 without variant ≡ arm64/v8, arm without variant → v7).
Result<Platform> ParsePlatform(std::string_view text);
Platform Normalize(Platform p);
// The platform of the running host (os "linux", architecture from uname, normalised).
Platform HostPlatform();
// True if `have` satisfies `want` after normalisation.
bool Matches(const Platform& want, const Platform& have);

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::optional<Platform> platform;
  std::map<std::string, std::string> annotations;
};

// True for foreign (Docker) and non-distributable (OCI) layer media types: layers whose bytes
// live outside the registry.
bool IsNonDistributableLayer(std::string_view media_type);

// Layer media type → compression; error for media types that are not layers we can read
// (foreign/non-distributable layers included).
Result<Compression> LayerCompression(std::string_view media_type);

enum class ManifestKind { kImage, kIndex };

// Decides the kind from the response Content-Type, falling back to the body's "mediaType"
// (OCI allows it to be absent; then "manifests" vs "layers" decides). Schema 1 is an error
// that names it. Unknown media types are an error naming them.
Result<ManifestKind> ClassifyManifest(std::string_view content_type, std::string_view body);

struct Manifest {
  std::string media_type;     // kOciManifest or kDockerManifest
  std::string artifact_type;  // OCI 1.1 "artifactType"; empty for a container image
  Descriptor config;
  std::vector<Descriptor> layers;
};
Result<Manifest> ParseManifest(std::string_view body);

struct Index {
  std::string media_type;  // kOciIndex or kDockerManifestList
  std::vector<Descriptor> manifests;
};
Result<Index> ParseIndex(std::string_view body);

// Picks the manifest for `want`. Error (NotFound) lists the platforms the index has:
// "no image for linux/s390x in this index; it has linux/amd64, linux/arm64/v8".
// Entries with platform os "unknown" (attestations) are never chosen.
Result<Descriptor> ChoosePlatform(const Index& index, const Platform& want);

struct ImageConfig {
  std::string architecture;
  std::string os;
  std::string variant;
  std::string created;  // as written (RFC 3339), may be empty
  std::vector<Digest> diff_ids;
  std::string raw;  // the config JSON as received
};
Result<ImageConfig> ParseConfig(std::string_view body);

}  // namespace wharf::oci
