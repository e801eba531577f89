#include "wharf/cli/image_arg.h"

namespace wharf::cli {

Result<ImageArg> ParseImageArg(std::string_view text) {
  if (text.find('@') != std::string_view::npos) {
    return InvalidArgument("image digests are not supported, use NAME[:TAG]: \"" +
                           std::string(text) + "\"");
  }
  ImageArg arg;
  size_t slash = text.rfind('/');
  size_t colon = text.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    arg.name = std::string(text.substr(0, colon));
    arg.tag = std::string(text.substr(colon + 1));
    if (arg.tag.empty()) return InvalidArgument("empty tag in \"" + std::string(text) + "\"");
  } else {
    arg.name = std::string(text);
  }
  if (arg.name.empty()) return InvalidArgument("empty image name in \"" + std::string(text) + "\"");
  return arg;
}

std::string DisplayName(std::string_view name) {
  for (std::string_view hub : {"docker.io/", "index.docker.io/", "registry-1.docker.io/"}) {
    if (name.starts_with(hub)) {
      name.remove_prefix(hub.size());
      break;
    }
  }
  constexpr std::string_view kLibrary = "library/";
  if (name.starts_with(kLibrary) && name.find('/', kLibrary.size()) == std::string_view::npos) {
    name.remove_prefix(kLibrary.size());
  }
  return std::string(name);
}

}  // namespace wharf::cli
