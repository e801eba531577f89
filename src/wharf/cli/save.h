// `wharf save`: local images of wharfd as one image archive (GET /api/v1/image/export), the
// tar `docker save` writes (or, with format "oci", an OCI image layout), into a file that
// appears only whole (output_file.h) or onto stdout when it is not a terminal, with a
// progress line on stderr when that is a terminal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/cli/api_client.h"

namespace wharf::cli {

struct SaveRequest {
  std::vector<std::string> images;  // NAME[:TAG] or NAME@DIGEST, as docker save takes them
  std::string output;               // a file; empty: stdout
  std::string format = "docker";    // or "oci"
};

// Writes the archive. InvalidArgument when stdout would be a terminal ("cowardly refusing");
// the server's errors (404 naming the image, 400 a bad name or format); Unavailable when the
// transfer is cut; Cancelled on Ctrl-C. A file given with `output` is left as it was on any
// failure.
Result<void> Save(const ApiClient& api, const SaveRequest& request);

// The API path of the export: "/api/v1/image/export?format=oci&image=busybox%3A1.36&...".
std::string ExportPath(const std::vector<std::string>& images, const std::string& format);

}  // namespace wharf::cli
