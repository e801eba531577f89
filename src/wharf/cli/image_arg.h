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
  std::string tag;  // empty when the argument had none
};

// Splits "NAME[:TAG]": the tag is after the last ':' that follows the last '/', so a
// registry port ("host:5000/app") is part of the name. Digests ("@sha256:...") and empty
// parts are InvalidArgument.
Result<ImageArg> ParseImageArg(std::string_view text);

// The short form Docker displays and wharfd reports: "docker.io/library/ubuntu" and
// "library/ubuntu" are "ubuntu"; "docker.io/lgsd/diamond" is "lgsd/diamond"; names with
// another registry are unchanged.
std::string DisplayName(std::string_view name);

}  // namespace wharf::cli
