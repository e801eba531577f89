// Image archives of local Docker images, for the export routes and `wharf save`: images named
// as users write them, looked up in the local store and opened as one archive
// (archive/image_archive.h) that streams from the blob store. Thread-safe (each call opens
// its own archive).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/archive/image_archive.h"
#include "wharf/base/status.h"
#include "wharf/service/local_images.h"

namespace wharf::service {

// "docker" or "oci"; InvalidArgument naming the parameter `format` otherwise.
Result<archive::ArchiveFormat> ParseArchiveFormat(std::string_view text);

struct LocalExport {
  std::shared_ptr<archive::ImageArchive> archive;
  // What was exported, in the order asked, each once, in Docker's short form
  // ("busybox:1.36", "lgsd/diamond:latest", "ghcr.io/x/y:t", "name@sha256:...").
  std::vector<std::string> images;
};

// The archive of the local Docker images `images` (at least one), each a Docker reference
// ("busybox" meaning busybox:latest, "busybox:1.36", "lgsd/diamond:latest",
// "ghcr.io/x/y:t", "name@sha256:..."). Each image is carried once, under every name it was
// asked by (its full name: "docker.io/library/busybox:1.36"; none for one asked by digest).
// NotFound "Image not found: NAME:TAG" for the first image that is not stored;
// InvalidArgument for an empty list, a name against the reference grammar, or an LXC image
// (which has no image manifest to export).
Result<LocalExport> OpenExport(LocalImages& local, const std::vector<std::string>& images,
                               archive::ArchiveFormat format);

}  // namespace wharf::service
