#include "wharf/base/log_text.h"

#include <algorithm>

#include "wharf/base/utf8.h"

namespace wharf {

namespace {

// "\x1B" for prefix 'x' and 2 digits, "\u2028" for prefix 'u' and 4.
std::string HexEscape(char prefix, unsigned value, int digits) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = {'\\', prefix};
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) out += kHex[(value >> shift) & 0xF];
  return out;
}

bool EscapedCodePoint(char32_t c) {
  return (c >= 0x80 && c <= 0x9F) || c == 0x2028 || c == 0x2029 || (c >= 0x202A && c <= 0x202E) ||
         (c >= 0x2066 && c <= 0x2069);
}

// The escaped form of the character (or bad byte) at text[pos]; sets *consumed to the bytes it
// stands for.
std::string EscapeAt(std::string_view text, size_t pos, size_t* consumed) {
  const Utf8Char c = DecodeUtf8(text, pos);
  if (c.length == 0) {
    *consumed = 1;
    return HexEscape('x', static_cast<unsigned char>(text[pos]), 2);
  }
  *consumed = c.length;
  switch (c.code_point) {
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    case '\\':
      return "\\\\";
    case '"':
      return "\\\"";
    default:
      break;
  }
  if (c.code_point < 0x20 || c.code_point == 0x7F) {
    return HexEscape('x', c.code_point, 2);
  }
  if (EscapedCodePoint(c.code_point)) {
    return HexEscape('u', c.code_point, 4);
  }
  return std::string(text.substr(pos, c.length));
}

}  // namespace

std::string LogSafe(std::string_view text, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  for (size_t pos = 0; pos < text.size();) {
    size_t consumed = 0;
    std::string piece = EscapeAt(text, pos, &consumed);
    if (out.size() + piece.size() > max_bytes) {
      out += "...(" + std::to_string(text.size()) + " bytes)";
      return out;
    }
    out += piece;
    pos += consumed;
  }
  return out;
}

}  // namespace wharf
