// What the fuzz targets share: inputs that carry two strings (a header and a body, a method
// and a path) put the first on the first line. The corpus files follow that convention.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wharf::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// (text before the first '\n', text after it); the second is empty when there is no '\n'.
inline std::pair<std::string_view, std::string_view> SplitFirstLine(std::string_view text) {
  size_t nl = text.find('\n');
  if (nl == std::string_view::npos) return {text, {}};
  return {text.substr(0, nl), text.substr(nl + 1)};
}

// The first `n` fields of `line` separated by `sep`; missing ones are empty.
inline std::vector<std::string> SplitFields(std::string_view line, char sep, size_t n) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (fields.size() < n) {
    size_t at = line.find(sep, start);
    fields.emplace_back(line.substr(start, at == std::string_view::npos ? line.npos : at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  fields.resize(n);
  return fields;
}

// A property every parser must keep; a violation is a crash the fuzzer reports.
inline void Require(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace wharf::fuzz
