// GET /api/v1/image/updates and POST /api/v1/image/updates/check: the update state of every
// local Docker tag, [{"type", "name", "tag", "update_available", "local_digest",
// "remote_digest", "checked_at" (epoch seconds, null before the first check), "error"}], and a
// check made now of every tag or of the one a JSON body names ({"type", "name", "tag"}),
// answered when done with the same list. Internal to the api module.
#pragma once

#include <functional>

#include "wharf/api/http_message.h"
#include "wharf/base/status.h"
#include "wharf/service/updates.h"

namespace wharf::api {

// `updates` null: update checks are off (404).
Result<HttpResponse> ListUpdates(service::Updates* updates);
Result<HttpResponse> CheckUpdates(service::Updates* updates, const HttpRequest& req,
                                  const std::function<bool()>& cancelled);

}  // namespace wharf::api
