// Image arguments as users type them: "ubuntu", "lgsd/diamond:1.0",
// "127.0.0.1:5000/team/app:v2". The server validates names; the CLI only splits off the tag
// and predicts the short form the server displays, to recognise its own job in the events.
#pragma once

#include <string>
#include <string_view>

#include "wharf/base/status.h"

namespace wharf::cli {

struct ImageArg {
  std::string name;
  std::string tag;     // empty when the argument had none
  std::string digest;  // "sha256:<64 hex>" for "NAME@sha256:...", else empty
};

// Splits "NAME[:TAG]": the tag is after the last ':' that follows the last '/', so a
// registry port ("host:5000/app") is part of the name. Digests ("@sha256:...") and empty
// parts are InvalidArgument.
Result<ImageArg> ParseImageArg(std::string_view text);

// As ParseImageArg, and also "NAME@sha256:<64 lowercase hex>" (as `docker pull` takes it):
// `digest` set, `tag` empty. A tag beside a digest ("NAME:TAG@sha256:...") and a malformed
// digest are InvalidArgument naming what is wrong.
Result<ImageArg> ParseImageRef(std::string_view text);

// What the API's TAG path segment is for `arg`: its digest, its tag, else "latest".
std::string TagOrDigest(const ImageArg& arg);

// "NAME:TAG", or "NAME@sha256:..." when `tag` is a digest.
std::string JoinRef(std::string_view name, std::string_view tag);

// The short form Docker displays and wharfd reports: "docker.io/library/ubuntu" and
// "library/ubuntu" are "ubuntu"; "docker.io/lgsd/diamond" is "lgsd/diamond"; names with
// another registry are unchanged.
std::string DisplayName(std::string_view name);

}  // namespace wharf::cli
