// Strict UTF-8 (RFC 3629, Unicode Table 3-7): the only well-formed sequences are the shortest
// encodings of U+0000..U+10FFFF without the surrogates U+D800..U+DFFF. Overlong forms, stray
// continuation bytes, truncated sequences, surrogates and values over U+10FFFF are invalid.
// NUL and the other control characters are valid UTF-8: callers that must refuse them check
// for them separately.
#pragma once

#include <cstddef>
#include <string_view>

namespace wharf {

struct Utf8Char {
  char32_t code_point = 0;
  size_t length = 0;  // bytes of the sequence (1-4); 0 if the bytes are not well-formed
};

// The character whose encoding starts at text[pos]; length 0 if the bytes from pos on do not
// start a well-formed sequence (then only text[pos] is known to be bad). Requires
// pos < text.size().
Utf8Char DecodeUtf8(std::string_view text, size_t pos);

// True if all of `text` is well-formed UTF-8 (the empty string is).
bool ValidUtf8(std::string_view text);

}  // namespace wharf
