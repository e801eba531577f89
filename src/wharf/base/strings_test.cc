#include "wharf/base/strings.h"

#include <gtest/gtest.h>

#include <string>

namespace wharf {
namespace {

TEST(StringsTest, LowerFoldsAsciiOnly) {
  EXPECT_EQ(Lower(""), "");
  EXPECT_EQ(Lower("Docker.IO/Library"), "docker.io/library");
  EXPECT_EQ(Lower("already lower 123 _-@[`{"), "already lower 123 _-@[`{");
  // UTF-8 and other bytes over 0x7F pass through untouched: "É" stays "É".
  EXPECT_EQ(Lower("\xC3\x89T\xC3\x89"), "\xC3\x89t\xC3\x89");
  EXPECT_EQ(Lower(std::string("A\0B", 3)), std::string("a\0b", 3));
}

TEST(StringsTest, TrimDropsAsciiWhitespaceAtBothEnds) {
  struct Case {
    std::string_view in;
    std::string_view want;
  };
  const Case cases[] = {
      {"", ""},
      {" \t\r\n", ""},
      {"x", "x"},
      {"  Bearer realm=x \r\n", "Bearer realm=x"},
      {"\tinner  space\t", "inner  space"},
      {"\vvertical tab is kept\f", "\vvertical tab is kept\f"},
      {"\xC2\xA0nbsp is not ASCII", "\xC2\xA0nbsp is not ASCII"},
  };
  for (const Case& c : cases) EXPECT_EQ(Trim(c.in), c.want) << "input: " << c.in;
}

TEST(StringsTest, TrimViewsItsInput) {
  std::string_view in = "  abc  ";
  std::string_view out = Trim(in);
  EXPECT_EQ(out.data(), in.data() + 2);
  EXPECT_EQ(out.size(), 3u);
}

TEST(StringsTest, EqualsIgnoreCase) {
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_TRUE(EqualsIgnoreCase("Ubuntu", "uBUNTU"));
  EXPECT_FALSE(EqualsIgnoreCase("ubuntu", "ubuntu "));
  EXPECT_FALSE(EqualsIgnoreCase("a", "b"));
  EXPECT_FALSE(EqualsIgnoreCase("\xC3\x89", "\xC3\xA9"));  // É and é: not ASCII
}

TEST(StringsTest, ContainsIgnoreCase) {
  EXPECT_TRUE(ContainsIgnoreCase("", ""));
  EXPECT_TRUE(ContainsIgnoreCase("anything", ""));
  EXPECT_FALSE(ContainsIgnoreCase("", "a"));
  EXPECT_TRUE(ContainsIgnoreCase("Library/NGINX", "nginx"));
  EXPECT_TRUE(ContainsIgnoreCase("library/nginx", "LIB"));
  EXPECT_TRUE(ContainsIgnoreCase("abc", "ABC"));
  EXPECT_FALSE(ContainsIgnoreCase("abc", "abcd"));
  EXPECT_FALSE(ContainsIgnoreCase("redis", "nginx"));
}

}  // namespace
}  // namespace wharf
