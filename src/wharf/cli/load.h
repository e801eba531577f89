// `wharf load`: an image archive into wharfd (POST /api/v1/image/import), what `docker save`,
// `podman save`, `skopeo copy ... docker-archive:` or `oci-archive:` and `wharf save` write,
// plain or gzip or zstd compressed, from a file or from stdin when it is not a terminal, with a
// progress line on stderr when that is a terminal. Prints "Loaded image: NAME:TAG" for each
// image, as `docker load` does (or the server's JSON with --json).
#pragma once

#include <string>

#include "wharf/base/status.h"
#include "wharf/cli/api_client.h"

namespace wharf::cli {

struct LoadRequest {
  std::string input;  // a file; empty: stdin
  std::string tag;    // NAME:TAG for an image the archive leaves untagged; may be empty
  bool json = false;
};

// Sends the archive. InvalidArgument when stdin would be a terminal ("cowardly refusing") or
// the file cannot be opened; the server's errors (400 naming what is wrong with the archive,
// 403 for a user who may not change images, 413 over the server's limit); Cancelled on
// Ctrl-C (the server then records nothing).
Result<void> Load(const ApiClient& api, const LoadRequest& request);

// The API path of the import: "/api/v1/image/import?file=busybox.tar&tag=...".
std::string ImportPath(const std::string& file, const std::string& tag);

}  // namespace wharf::cli
