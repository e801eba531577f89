// What an image archive holds, as data: the images, the blobs each carries once, and the small
// metadata files of the two formats. ImageArchive (image_archive.h) streams them as a tar.
//
// docker (what `docker save` writes and `docker load` / `podman load` read):
//   manifest.json          [{"Config": "blobs/sha256/<hex>", "RepoTags": [...],
//                            "Layers": ["blobs/sha256/<hex>", ...]}]
//   blobs/sha256/<hex>     each config and layer
// oci (an OCI image layout, what `skopeo copy oci-archive:` and `podman load` read):
//   oci-layout             {"imageLayoutVersion": "1.0.0"}
//   index.json             one manifest descriptor per name of each image, annotated with
//                          io.containerd.image.name = the full name, which Podman, Docker and
//                          containerd name a loaded image by, and
//                          org.opencontainers.image.ref.name = its short form
//                          ("busybox:1.36"), as the store's own index.json, so that
//                          `oci-archive:FILE:busybox:1.36` picks one image of several; an
//                          untagged image has one descriptor without annotations
//   manifest.json          as in docker, so that `docker load` reads this format too (Docker
//                          25 and later write both); Podman reads index.json first
//   blobs/sha256/<hex>     each manifest, config and layer
//
// Blobs go as stored: a gzip or zstd layer stays compressed (engines decompress on load). Blob
// names are digests, so images that share layers carry them once. No legacy `repositories`
// file: engines read the tags from manifest.json. Pure functions but ImageOfManifest.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wharf/base/digest.h"
#include "wharf/base/status.h"
#include "wharf/content/blob_store.h"
#include "wharf/oci/image.h"

namespace wharf::archive {

enum class ArchiveFormat { kDocker, kOci };

struct ArchiveImage {
  // Full references the image is named by ("docker.io/library/ubuntu:latest",
  // "ghcr.io/x/y:t"); none leaves it untagged.
  std::vector<std::string> repo_tags;
  oci::Descriptor manifest;  // its digest, media type and size (the oci format carries it)
  Digest config;
  std::vector<Digest> layers;  // base layer first, as the manifest lists them
};

// The image whose manifest is `manifest` in `store`. NotFound when the manifest is not there;
// InvalidArgument when it is not an image manifest.
Result<ArchiveImage> ImageOfManifest(const content::BlobStore& store, const Digest& manifest,
                                     std::vector<std::string> repo_tags);

// "blobs/sha256/<hex>": where a blob lies in the archive.
std::string ArchivePath(const Digest& digest);

// A file of the archive held in memory.
struct ArchiveFile {
  std::string name;
  std::string content;
};

// The metadata files of `images` in `format`, in the order the archive holds them (before
// the blobs, so a reader knows the images before their bytes come).
std::vector<ArchiveFile> MetadataFiles(const std::vector<ArchiveImage>& images,
                                       ArchiveFormat format);
// The blobs of `images` in `format`, each once, in the order of first use.
std::vector<Digest> ArchiveBlobs(const std::vector<ArchiveImage>& images, ArchiveFormat format);

// manifest.json and index.json themselves.
std::string DockerManifestJson(const std::vector<ArchiveImage>& images);
std::string OciIndexJson(const std::vector<ArchiveImage>& images);

}  // namespace wharf::archive
