#include "wharf/lxc/index_system.h"

#include <vector>

#include "wharf/base/strings.h"
#include "wharf/lxc/arch.h"

namespace wharf::lxc {

namespace {

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

std::vector<std::string> SplitFields(std::string_view line, char sep) {
  std::vector<std::string> fields;
  size_t start = 0;
  for (;;) {
    size_t end = line.find(sep, start);
    if (end == std::string_view::npos) {
      fields.emplace_back(line.substr(start));
      return fields;
    }
    fields.emplace_back(line.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace

Result<IndexBuild> FindIndexBuild(std::string_view index_text, const ImageQuery& query) {
  std::vector<std::string> serials;
  std::vector<std::string> paths;
  for (std::string_view line : SplitLines(index_text)) {
    auto f = SplitFields(line, ';');
    if (f.size() < 6 || f[4].empty() || f[5].empty()) continue;
    if (!EqualsIgnoreCase(f[0], query.os) || f[1] != query.release ||
        DebianArch(f[2]) != DebianArch(query.arch) || f[3] != query.variant) {
      continue;
    }
    serials.push_back(f[4]);
    paths.push_back(f[5]);
  }
  if (serials.empty()) return NotFound("no image " + query.Describe() + " in the server's index");
  auto serial = PickSerial(serials, query.serial);
  if (!serial) {
    if (!query.serial.empty()) {
      return NotFound("build " + query.serial + " of " + query.Describe() +
                      " is not in the server's index");
    }
    return NotFound("no build of " + query.Describe() + " in the server's index has a serial");
  }
  for (size_t i = 0; i < serials.size(); ++i) {
    if (serials[i] != *serial) continue;
    if (!IsSafeServerPath(paths[i], true)) {
      return InvalidArgument("unsafe path \"" + paths[i] + "\" for build " + *serial);
    }
    std::string dir = paths[i];
    if (dir.back() != '/') dir += '/';
    return IndexBuild{*serial, dir};
  }
  return Internal("picked serial " + *serial + " vanished");
}

std::map<std::string, std::string> ParseSha256Sums(std::string_view text) {
  std::map<std::string, std::string> sums;
  for (std::string_view line : SplitLines(text)) {
    if (line.size() < 66) continue;
    auto hex = NormalizeSha256(line.substr(0, 64));
    if (!hex || line[64] != ' ') continue;
    std::string_view name = line.substr(65);
    if (!name.empty() && (name.front() == ' ' || name.front() == '*')) name.remove_prefix(1);
    while (name.starts_with("./")) name.remove_prefix(2);
    if (name.empty()) continue;
    sums[std::string(name)] = *hex;
  }
  return sums;
}

}  // namespace wharf::lxc
