#include "wharf/base/strings.h"

#include <algorithm>

namespace wharf {

namespace {

char LowerChar(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool SameIgnoringCase(char a, char b) { return LowerChar(a) == LowerChar(b); }

}  // namespace

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = LowerChar(c);
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), SameIgnoringCase);
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  return needle.empty() || std::search(haystack.begin(), haystack.end(), needle.begin(),
                                       needle.end(), SameIgnoringCase) != haystack.end();
}

}  // namespace wharf
