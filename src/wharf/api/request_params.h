// Reading the API's parameters from a request: the depot and type of a listing, page numbers,
// JSON and form bodies, and the checks every request gets (UTF-8, NUL, Host). Each failure is
// an InvalidArgument whose message names the parameter. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wharf/api/http_message.h"
#include "wharf/api/router.h"
#include "wharf/base/status.h"

namespace wharf::api {

// The depot asked for: `from` wins over `category`; default "local".
Result<std::string> DepotParam(const HttpRequest& req);
// "", "docker" or "lxc".
Result<std::string> TypeParam(const std::string& type, const char* param);
// An integer from 1 to max.
Result<int64_t> PositiveParam(const std::string& text, const char* name, int64_t max);

// The body as a JSON object; an empty body is an empty object. curl's -d sends JSON with a
// form content type, so the content type is not trusted.
Result<nlohmann::json> JsonBody(const std::string& body);
// body[key] as a string; absent or null = "".
Result<std::string> OptionalString(const nlohmann::json& body, const char* key);
// username and password from a JSON or a form-encoded body. Credentials in the query string
// are refused: URLs end up in logs and histories.
Result<std::pair<std::string, std::string>> Credentials(const HttpRequest& req);

// InvalidArgument naming the first query parameter (or, for a matched route, the path part:
// image_name, tag...) that is not UTF-8, or the path itself.
Result<void> CheckUtf8(const HttpRequest& req, const RouteMatch& match);
// Is the Host header (port stripped, case ignored) one of `allowed`? Empty `allowed`: yes.
bool HostAllowed(const HttpRequest& req, const std::vector<std::string>& allowed);

// The route's name in metrics ("list", "inspect"...).
const char* RouteName(RouteId id);

}  // namespace wharf::api
