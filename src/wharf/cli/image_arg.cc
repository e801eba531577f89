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

Result<ImageArg> ParseImageRef(std::string_view text) {
  size_t at = text.find('@');
  if (at == std::string_view::npos) return ParseImageArg(text);
  std::string_view digest = text.substr(at + 1);
  constexpr std::string_view kSha256 = "sha256:";
  bool hex = digest.size() == kSha256.size() + 64 && digest.starts_with(kSha256) &&
             digest.find_first_not_of("0123456789abcdef", kSha256.size()) == std::string_view::npos;
  if (!hex) {
    return InvalidArgument("a digest is sha256: and 64 lowercase hex digits: \"" +
                           std::string(text) + "\"");
  }
  WHARF_ASSIGN_OR_RETURN(auto arg, ParseImageArg(text.substr(0, at)));
  if (!arg.tag.empty()) {
    return InvalidArgument("give a tag or a digest, not both: \"" + std::string(text) + "\"");
  }
  arg.digest = std::string(digest);
  return arg;
}

std::string TagOrDigest(const ImageArg& arg) {
  if (!arg.digest.empty()) return arg.digest;
  return arg.tag.empty() ? "latest" : arg.tag;
}

std::string JoinRef(std::string_view name, std::string_view tag) {
  return std::string(name) + (tag.starts_with("sha256:") ? "@" : ":") + std::string(tag);
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
