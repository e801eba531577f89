// Turning registry responses that are not a success into Status values.
#pragma once

#include <string>
#include <string_view>

#include "wharf/base/status.h"
#include "wharf/registry/http_transfer.h"

namespace wharf::registry {

// The thing a request was about, for messages: noun "manifest latest" or "blob sha256:…",
// name "127.0.0.1:5000/foo".
struct Subject {
  std::string noun;
  std::string name;
};

// The error details of a response body: the registry's JSON errors as "CODE: message; ...",
// a token server's "details", or the start of a plain-text body; "" if there is nothing.
std::string DescribeErrorBody(std::string_view body);

// The Status for a response that is not a success:
//   404 or MANIFEST_UNKNOWN / NAME_UNKNOWN / BLOB_UNKNOWN → NotFound "<noun> not found in <name>"
//   401 (authentication was already tried) → Unauthenticated
//   403 → PermissionDenied
//   anything else → Unavailable "<peer>: GET <path>: 503 Service Unavailable" (HEAD for a HEAD)
// each followed by ": <details>" when the body has some.
Status StatusForResponse(const HttpResponse& response, std::string_view peer,
                         const Subject& subject);

// A caller's stop (`stop`, a Cancelled), reworded to say what it interrupted: "cancelled
// while fetching <what> from <peer>" ("the manifest of NAME:TAG", "registry HOST"), followed
// in parentheses by the stop's own message when that is not "<peer>: transfer cancelled", the
// transfer itself (it says which step it cut: a token request, a wait before trying again).
Status CancelledWhile(std::string_view what, std::string_view peer, const Status& stop);

// "4 MiB", "512 KiB" or "1000 bytes".
std::string FormatSize(size_t bytes);

}  // namespace wharf::registry
