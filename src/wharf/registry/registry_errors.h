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

// The error details of a registry's (or token server's) response body: its JSON errors as
// "CODE: message; ...", or a token server's "details"; "" for anything else. Nothing else of
// the body is ever echoed: a registry named by a user may be any server, and what it sent
// (an HTML page, another service's answer) must not come back through wharf's messages.
std::string DescribeRegistryError(std::string_view body);

// DescribeRegistryError, or else the start of a plain-text body: for the peers the operator
// configured (webhooks, catalogs, the Hub search index), whose words help them.
std::string DescribeErrorBody(std::string_view body);

// The Status for a response that is not a success:
//   404 or MANIFEST_UNKNOWN / NAME_UNKNOWN / BLOB_UNKNOWN → NotFound "<noun> not found in <name>"
//   401 (authentication was already tried) → Unauthenticated
//   403 → PermissionDenied
//   anything else → Unavailable "<peer>: GET <path>: 503 Service Unavailable" (HEAD for a HEAD)
// each followed by ": <details>" when the body has some (DescribeRegistryError).
Status StatusForResponse(const HttpResponse& response, std::string_view peer,
                         const Subject& subject);

// Unavailable when a 200 to a manifest request from `peer` is not a manifest: an HTML page
// (a captive portal, a registry's web UI behind a mirror's URL; `media_type` text/html or a
// body starting with '<') or any body that is not a JSON object, so that a mirror answering
// so is passed over like any failing mirror: "mirror HOST answered an HTML page (Content-Type
// text/html) that is not a manifest, for <noun> of <name>". Only the media type is judged for
// a HEAD (`head`, `body` empty). The body itself is never quoted.
Result<void> CheckManifestAnswer(std::string_view peer, const Subject& subject,
                                 std::string_view media_type, std::string_view body, bool head);

// A caller's stop (`stop`, a Cancelled), reworded to say what it interrupted: "cancelled
// while fetching <what> from <peer>" ("the manifest of NAME:TAG", "registry HOST"), followed
// in parentheses by the stop's own message when that is not "<peer>: transfer cancelled", the
// transfer itself (it says which step it cut: a token request, a wait before trying again).
Status CancelledWhile(std::string_view what, std::string_view peer, const Status& stop);

// "4 MiB", "512 KiB" or "1000 bytes".
std::string FormatSize(size_t bytes);

}  // namespace wharf::registry
