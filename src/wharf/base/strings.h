// ASCII string helpers shared by the modules. They treat bytes >= 0x80 as opaque: case is
// folded for A-Z only, and only the ASCII whitespace of protocol text counts as space, so
// the answers never depend on the locale. Pure functions, safe from any thread.
#pragma once

#include <string>
#include <string_view>

namespace wharf {

// `s` with A-Z replaced by a-z; every other byte is kept.
std::string Lower(std::string_view s);

// `s` without leading and trailing space, tab, CR and LF. The result views `s`'s bytes.
std::string_view Trim(std::string_view s);

// Whether `a` and `b` are equal after Lower().
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Whether Lower(haystack) contains Lower(needle); an empty needle is in every haystack.
bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle);

}  // namespace wharf
