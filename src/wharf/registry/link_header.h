// RFC 8288 Link header values, as registries use them to paginate /v2/_catalog and
// /v2/<name>/tags/list: `Link: </v2/_catalog?last=b&n=100>; rel="next"`. Pure.
#pragma once

#include <string>
#include <vector>

namespace wharf::registry {

// The target of the first link whose rel lists "next", over every Link header value given
// (each may hold several comma-separated links); "" when there is none. The target is
// returned as written (possibly relative); resolve it against the request URL.
std::string NextLinkTarget(const std::vector<std::string>& link_values);

}  // namespace wharf::registry
