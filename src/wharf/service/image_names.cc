#include "wharf/service/image_names.h"

#include <algorithm>

namespace wharf::service {

Result<reference::Reference> ParseImage(const std::string& name, const std::string& tag) {
  auto ref = reference::ParseNameAndTag(name, tag);
  if (ref) return ref;
  bool tag_is_bad = !tag.empty() && !tag.starts_with("sha256:") && !reference::IsValidTag(tag);
  return InvalidArgument(std::string(tag_is_bad ? "image_tag" : "image_name") + ": " +
                         ref.error().message);
}

Result<std::string> CanonicalName(const std::string& name) {
  WHARF_ASSIGN_OR_RETURN(auto ref, ParseImage(name, "latest"));
  return ref.Name();
}

void SortTags(std::vector<std::string>& tags) {
  std::sort(tags.begin(), tags.end(), [](const std::string& a, const std::string& b) {
    if ((a == "latest") != (b == "latest")) return a == "latest";
    return a < b;
  });
}

}  // namespace wharf::service
