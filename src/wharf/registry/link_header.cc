#include "wharf/registry/link_header.h"

#include <algorithm>
#include <string_view>

#include "wharf/base/strings.h"

namespace wharf::registry {

namespace {

// True if a link's parameters ("; rel=\"prev next\"; type=...") give it the relation "next".
bool RelIsNext(std::string_view params) {
  const std::string lower = Lower(params);
  for (size_t at = lower.find("rel="); at != std::string::npos; at = lower.find("rel=", at + 4)) {
    // "rel=" must start a parameter, not end another name ("prerel=").
    size_t before = at;
    while (before > 0 && (lower[before - 1] == ' ' || lower[before - 1] == '\t')) --before;
    if (before > 0 && lower[before - 1] != ';') continue;
    std::string_view value = std::string_view(lower).substr(at + 4);
    bool quoted = value.starts_with('"');
    if (quoted) value.remove_prefix(1);
    value = value.substr(0, value.find_first_of(quoted ? "\"" : ";, \t"));
    // rel may list several space-separated relation types.
    for (size_t pos = 0; pos < value.size();) {
      size_t end = std::min(value.find(' ', pos), value.size());
      if (value.substr(pos, end - pos) == "next") return true;
      pos = end + 1;
    }
  }
  return false;
}

}  // namespace

std::string NextLinkTarget(const std::vector<std::string>& link_values) {
  for (const std::string& value : link_values) {
    size_t pos = 0;
    while ((pos = value.find('<', pos)) != std::string::npos) {
      size_t close = value.find('>', pos);
      if (close == std::string::npos) break;
      // This link's parameters run to the next '<' (a URL in '<>' holds no '<').
      size_t next = value.find('<', close);
      std::string_view params = std::string_view(value).substr(
          close + 1, next == std::string::npos ? std::string::npos : next - close - 1);
      if (RelIsNext(params)) return value.substr(pos + 1, close - pos - 1);
      pos = close;
    }
  }
  return "";
}

}  // namespace wharf::registry
