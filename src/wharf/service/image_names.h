// Image names and tags as the API receives them ("ubuntu", "lgsd/diamond", "host:5000/a/b",
// a tag or a digest), checked by the reference grammar before any I/O. Pure functions.
#pragma once

#include <string>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/reference/reference.h"

namespace wharf::service {

// The reference of name and tag; InvalidArgument naming image_name or image_tag otherwise.
Result<reference::Reference> ParseImage(const std::string& name, const std::string& tag);
// The canonical name as the store keys it ("ubuntu" → "docker.io/library/ubuntu");
// InvalidArgument naming image_name if it is not a name.
Result<std::string> CanonicalName(const std::string& name);
// "latest" first, then byte-wise order.
void SortTags(std::vector<std::string>& tags);

}  // namespace wharf::service
