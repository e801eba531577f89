#include "wharf/base/utf8.h"

namespace wharf {

namespace {

bool InRange(unsigned char c, unsigned char lo, unsigned char hi) { return c >= lo && c <= hi; }

}  // namespace

Utf8Char DecodeUtf8(std::string_view text, size_t pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) return {b0, 1};
  size_t length = 0;
  // The allowed range of the second byte narrows for the lead bytes whose sequences could
  // otherwise be overlong (E0, F0), a surrogate (ED) or over U+10FFFF (F4).
  unsigned char lo = 0x80, hi = 0xBF;
  if (InRange(b0, 0xC2, 0xDF)) {
    length = 2;
  } else if (InRange(b0, 0xE0, 0xEF)) {
    length = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (InRange(b0, 0xF0, 0xF4)) {
    length = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {};  // a continuation byte, C0/C1 (always overlong) or F5..FF (over U+10FFFF)
  }
  if (text.size() - pos < length || !InRange(byte(1), lo, hi)) return {};
  char32_t code_point = b0 & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) {
    if (!InRange(byte(i), 0x80, 0xBF)) return {};
    code_point = (code_point << 6) | (byte(i) & 0x3F);
  }
  return {code_point, length};
}

bool ValidUtf8(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = DecodeUtf8(text, pos);
    if (c.length == 0) return false;
    pos += c.length;
  }
  return true;
}

}  // namespace wharf
