// POST /api/v1/image/import: an image archive as the request body, taken piece by piece into
// an import (service/imports.h) as it arrives, so that neither the 1 MiB body limit nor the
// memory grow with it: the limit is imports.max_bytes. Answers 200 {"images": [{"name",
// "tag", "id", "digest"}]} once the images are recorded; a bad archive is 400 naming the
// problem, a cancelled import 409, as soon as it shows (the rest of the body is not read).
// Query: `file` (the archive's file name, the job's label), `tag` (NAME:TAG for an untagged
// image). Internal to the api module.
#pragma once

#include <memory>
#include <optional>

#include "wharf/api/http_message.h"
#include "wharf/base/status.h"
#include "wharf/service/imports.h"

namespace wharf::api {

// Starts the import of `req` and sets its body sink; an error when the query is wrong (or
// imports are off: `imports` null).
Result<void> AdmitImport(HttpRequest& req, service::Imports* imports);
// The answer once the body is in (the sink AdmitImport set).
HttpResponse FinishImport(HttpRequest& req);

}  // namespace wharf::api
