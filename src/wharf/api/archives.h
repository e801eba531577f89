// The export routes: an image archive of local Docker images (service/exports.h) as the
// answer, streamed from the blob store (a PartsBody: tar headers and metadata files from
// memory, the blobs with sendfile(2)), never built in memory or on disk first.
//
//   GET /api/v1/image/docker/NAME/TAG/export?format=docker|oci
//   GET /api/v1/image/export?format=docker|oci&image=NAME:TAG&image=...
//
// 200 application/x-tar, Content-Length (the archive's size is known before its first byte)
// and Content-Disposition: attachment; filename="busybox_1.36.tar". Pure but for the store.
#pragma once

#include <string>
#include <vector>

#include "wharf/api/http_message.h"
#include "wharf/api/router.h"
#include "wharf/base/status.h"
#include "wharf/service/local_images.h"

namespace wharf::api {

struct Exported {
  HttpResponse answer;
  std::vector<std::string> images;  // what it holds, as service::LocalExport names them
};

// The answer of route kExport or kExportMany. `format` defaults to docker; another value
// than docker or oci is a 400 naming it, and so is a type other than docker (LXC images have
// no image archive) and, for kExportMany, no `image` parameter; then OpenExport's errors
// (404 "Image not found: NAME:TAG" for the first image that is not stored).
Result<Exported> ExportImages(service::LocalImages& local, const Route& route,
                              const HttpRequest& req);

// The file name a download suggests: the image's short name with every byte outside
// [A-Za-z0-9._-] made '_' ("busybox:1.36" → "busybox_1.36.tar"), and for several images
// the first one's followed by "-and-N-more".
std::string ExportFileName(const std::vector<std::string>& images);

}  // namespace wharf::api
