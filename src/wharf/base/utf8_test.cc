#include "wharf/base/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace wharf {
namespace {

struct Utf8Case {
  std::string bytes;
  bool valid;
  const char* why;
};

TEST(Utf8Test, ValidUtf8IsStrict) {
  const Utf8Case cases[] = {
      {"", true, "empty"},
      {"admin", true, "ASCII"},
      {std::string("a\0b", 3), true, "NUL is valid UTF-8"},
      {"\x7F", true, "DEL"},
      {"\xC2\x80", true, "U+0080, smallest 2-byte"},
      {"\xC3\xA9t\xC3\xA9", true, "été"},
      {"\xDF\xBF", true, "U+07FF, largest 2-byte"},
      {"\xE0\xA0\x80", true, "U+0800, smallest 3-byte"},
      {"\xED\x9F\xBF", true, "U+D7FF, just below the surrogates"},
      {"\xEE\x80\x80", true, "U+E000, just above the surrogates"},
      {"\xEF\xBF\xBF", true, "U+FFFF (a noncharacter, still well-formed)"},
      {"\xF0\x90\x80\x80", true, "U+10000, smallest 4-byte"},
      {"\xF0\x9F\x90\xB3", true, "U+1F433"},
      {"\xF4\x8F\xBF\xBF", true, "U+10FFFF, the largest"},
      {"\x80", false, "lone continuation byte"},
      {"a\xBF", false, "continuation byte after ASCII"},
      {"\xC0\x80", false, "overlong NUL"},
      {"\xC0\xAF", false, "overlong '/'"},
      {"\xC1\xBF", false, "overlong 2-byte"},
      {"\xE0\x80\xAF", false, "overlong 3-byte '/'"},
      {"\xE0\x9F\xBF", false, "overlong U+07FF"},
      {"\xF0\x80\x80\xAF", false, "overlong 4-byte '/'"},
      {"\xF0\x8F\xBF\xBF", false, "overlong U+FFFF"},
      {"\xED\xA0\x80", false, "U+D800, a surrogate"},
      {"\xED\xBF\xBF", false, "U+DFFF, a surrogate"},
      {"\xED\xA0\xBD\xED\xB0\xB3", false, "a surrogate pair (CESU-8)"},
      {"\xF4\x90\x80\x80", false, "U+110000"},
      {"\xF5\x80\x80\x80", false, "lead byte F5"},
      {"\xF8\x88\x80\x80\x80", false, "5-byte form"},
      {"\xFE", false, "FE"},
      {"\xFF", false, "FF"},
      {"\xC3", false, "truncated 2-byte"},
      {"\xE2\x82", false, "truncated 3-byte"},
      {"\xF0\x9F\x90", false, "truncated 4-byte"},
      {"\xC3(", false, "bad continuation"},
      {"\xE2\x28\xA1", false, "bad second byte of 3"},
      {"\xE2\x82\x28", false, "bad third byte of 3"},
      {"\xF0\x9F\x90(", false, "bad fourth byte of 4"},
      {"ok\xC3\xA9\xFF", false, "valid text, then a bad byte"},
  };
  for (const auto& c : cases) EXPECT_EQ(ValidUtf8(c.bytes), c.valid) << c.why;
}

TEST(Utf8Test, DecodeGivesCodePointAndLength) {
  struct Case {
    std::string bytes;
    size_t pos;
    char32_t code_point;
    size_t length;
  };
  const Case cases[] = {
      {"A", 0, U'A', 1},
      {"x\xC3\xA9", 1, 0xE9, 2},
      {"\xE2\x80\xA8", 0, 0x2028, 3},
      {"\xF4\x8F\xBF\xBF", 0, 0x10FFFF, 4},
      {"\xF0\x9F\x90\xB3!", 0, 0x1F433, 4},
      {"\xF0\x9F\x90\xB3!", 1, 0, 0},  // inside a character
      {"\xED\xA0\x80", 0, 0, 0},
      {"\xE2\x80", 0, 0, 0},
  };
  for (const auto& c : cases) {
    const Utf8Char got = DecodeUtf8(c.bytes, c.pos);
    EXPECT_EQ(got.length, c.length) << c.bytes;
    EXPECT_EQ(static_cast<uint32_t>(got.code_point), static_cast<uint32_t>(c.code_point))
        << c.bytes;
  }
}

TEST(Utf8Test, AcceptsEveryScalarValueAndNoSurrogate) {
  // Encodes every value the textbook way and checks the decoder agrees; surrogates must fail.
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    std::string s;
    if (cp < 0x80) {
      s = {static_cast<char>(cp)};
    } else if (cp < 0x800) {
      s = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    } else if (cp < 0x10000) {
      s = {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
           static_cast<char>(0x80 | (cp & 0x3F))};
    } else {
      s = {static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
           static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
    }
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    ASSERT_EQ(ValidUtf8(s), !surrogate) << std::hex << static_cast<uint32_t>(cp);
    if (!surrogate) {
      ASSERT_EQ(static_cast<uint32_t>(DecodeUtf8(s, 0).code_point), static_cast<uint32_t>(cp));
    }
  }
}

}  // namespace
}  // namespace wharf
