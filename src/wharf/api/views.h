// JSON in the exact shapes of the Container Station documents (see the API notes): the same
// keys and the same JSON types as the documented examples, quirks included. Pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wharf/api/http_message.h"
#include "wharf/base/status.h"
#include "wharf/service/auth.h"
#include "wharf/service/downloads.h"
#include "wharf/service/local_images.h"

namespace wharf::api {

// {"error": {"code": N, "message": "..."}}
nlohmann::json ErrorView(int http_status, const std::string& message);
// `body` as a JSON answer with that status; text from a client or a registry may hold invalid
// UTF-8: it is replaced, never a failure.
HttpResponse JsonAnswer(int status, const nlohmann::json& body);
// HTTP status for an error kind.
int HttpStatus(Code code);

// {"anonymous": false, "isAdmin": ..., "logintime": "YYYY-MM-DD HH:MM:SS", "username": ...}
nlohmann::json LoginView(const service::Session& session);

// The listing envelope: category and from (both, same value), filter_text, results,
// total_count (= results.size()), type.
nlohmann::json ListingView(const std::string& depot, const std::string& filter_text,
                           const std::string& type, nlohmann::json results);

// A local entry. Docker: size is an array of integers aligned with tags and is_latest an
// array; LXC: size is an array of strings and there is no is_latest.
nlohmann::json LocalEntryView(const service::LocalImage& image);

// downloadstatus entry: name, percent (null until the total is known, else 0..100), status,
// plus tag, type, bytes_done, bytes_total and error.
nlohmann::json JobView(const service::DownloadView& job);

}  // namespace wharf::api
