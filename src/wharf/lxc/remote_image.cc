#include "wharf/lxc/remote_image.h"

#include <algorithm>

#include "wharf/base/strings.h"

namespace wharf::lxc {

std::string ImageQuery::Describe() const { return os + "/" + release + "/" + arch + "/" + variant; }

bool IsBuildSerial(std::string_view key) {
  if (key.size() < 8) return false;
  return std::all_of(key.begin(), key.begin() + 8, [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::string> PickSerial(const std::vector<std::string>& keys,
                                      std::string_view wanted) {
  std::optional<std::string> best;
  for (const auto& key : keys) {
    if (!IsBuildSerial(key)) continue;
    if (!wanted.empty()) {
      if (key == wanted) return key;
      continue;
    }
    if (!best || key > *best) best = key;
  }
  return best;
}

bool HasDotDotSegment(std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (path.substr(start, end - start) == "..") return true;
    start = end + 1;
  }
  return false;
}

bool IsSafeServerPath(std::string_view path, bool allow_leading_slash) {
  if (path.empty()) return false;
  if (path.front() == '/' && !allow_leading_slash) return false;
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u == 0x7f || c == '\\' || c == '?' || c == '#') return false;
  }
  return !HasDotDotSegment(path);
}

std::string JoinUrl(std::string_view server, std::string_view path) {
  while (!server.empty() && server.back() == '/') server.remove_suffix(1);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return std::string(server) + "/" + std::string(path);
}

std::optional<std::string> NormalizeSha256(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  std::string out = Lower(hex);
  if (out.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
  return out;
}

}  // namespace wharf::lxc
