#include "wharf/base/log_text.h"

#include <gtest/gtest.h>

#include <string>

namespace wharf {
namespace {

struct LogSafeCase {
  std::string in;
  std::string out;
  const char* why;
};

TEST(LogSafeTest, EscapesWhatCouldForgeOrHideALine) {
  const LogSafeCase cases[] = {
      {"", "", "empty"},
      {"admin", "admin", "plain"},
      {"al ice.o'neil@x", "al ice.o'neil@x", "printable ASCII is kept"},
      {"x\naudit: login user=admin", "x\\naudit: login user=admin", "newline"},
      {"a\r\tb", "a\\r\\tb", "CR and tab"},
      {std::string("a\0b", 3), "a\\x00b", "NUL"},
      {"\x1B[2J", "\\x1B[2J", "ESC (terminal control)"},
      {"\x01\x1F\x7F", "\\x01\\x1F\\x7F", "other C0 controls and DEL"},
      {"say \"hi\"", "say \\\"hi\\\"", "double quotes"},
      {"C:\\n", "C:\\\\n", "a backslash is escaped, so \\n in the input stays distinct"},
      {"\xC3\xA9t\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x90\xB3",
       "\xC3\xA9t\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x90\xB3", "well-formed non-ASCII is kept"},
      {"a\xFF"
       "b",
       "a\\xFFb", "invalid byte"},
      {"\xC0\x8A", "\\xC0\\x8A", "overlong newline, each byte"},
      {"\xED\xA0\x80", "\\xED\\xA0\\x80", "surrogate"},
      {"\xE2\x82", "\\xE2\\x82", "truncated sequence"},
      {"\xC2\x85", "\\u0085", "C1 control NEL"},
      {"\xC2\x9B"
       "31m",
       "\\u009B31m", "C1 control CSI"},
      {"a\xE2\x80\xA8"
       "b\xE2\x80\xA9",
       "a\\u2028b\\u2029", "line and paragraph separators"},
      {"\xE2\x80\xAE"
       "nimda",
       "\\u202Enimda", "right-to-left override"},
      {"\xE2\x81\xA6x\xE2\x81\xA9", "\\u2066x\\u2069", "bidi isolates"},
      {"\xC2\xA0", "\xC2\xA0", "U+00A0 is not a control"},
  };
  for (const auto& c : cases) EXPECT_EQ(LogSafe(c.in), c.out) << c.why;
}

struct BoundCase {
  std::string in;
  size_t max_bytes;
  std::string out;
  const char* why;
};

TEST(LogSafeTest, BoundsTheLengthBetweenCharacters) {
  const BoundCase cases[] = {
      {"abcdef", 6, "abcdef", "exactly the limit"},
      {"abcdefg", 6, "abcdef...(7 bytes)", "one byte over"},
      {"abc", 0, "...(3 bytes)", "no room at all"},
      {"", 0, "", "empty fits in nothing"},
      {"ab\xC3\xA9", 3, "ab...(4 bytes)", "never inside a UTF-8 character"},
      {"ab\n", 3, "ab...(3 bytes)", "never inside an escape"},
      {"ab\xFF", 5, "ab...(3 bytes)", "nor inside a \\xHH escape"},
      {"ab\xFF", 6, "ab\\xFF", "the escape fits"},
      {std::string(1000, 'x'), 128, std::string(128, 'x') + "...(1000 bytes)", "default-like"},
  };
  for (const auto& c : cases) EXPECT_EQ(LogSafe(c.in, c.max_bytes), c.out) << c.why;
  EXPECT_EQ(LogSafe(std::string(200, 'y')), std::string(128, 'y') + "...(200 bytes)");
}

TEST(LogSafeTest, ResultHasNoControlBytesForAnyByte) {
  for (int b = 0; b < 256; ++b) {
    const std::string out = LogSafe(std::string(1, static_cast<char>(b)) + "\"");
    for (unsigned char c : out) EXPECT_FALSE(c < 0x20 || c == 0x7F) << b;
    EXPECT_EQ(out.back(), '"');
    EXPECT_EQ(out[out.size() - 2], '\\') << b;  // the quote stays escaped
  }
}

}  // namespace
}  // namespace wharf
