#include "wharf/cli/image_arg.h"

#include <gtest/gtest.h>

namespace wharf::cli {
namespace {

TEST(ImageArgTest, SplitsTheTagAfterTheLastSlash) {
  struct Case {
    const char* text;
    const char* name;
    const char* tag;
  };
  for (const Case& c : {Case{"ubuntu", "ubuntu", ""}, Case{"ubuntu:22.04", "ubuntu", "22.04"},
                        Case{"lgsd/diamond:1.0", "lgsd/diamond", "1.0"},
                        Case{"127.0.0.1:5000/team/app", "127.0.0.1:5000/team/app", ""},
                        Case{"127.0.0.1:5000/team/app:v2", "127.0.0.1:5000/team/app", "v2"},
                        Case{"localhost:5000/app", "localhost:5000/app", ""}}) {
    auto arg = ParseImageArg(c.text);
    ASSERT_TRUE(arg) << c.text;
    EXPECT_EQ(arg->name, c.name) << c.text;
    EXPECT_EQ(arg->tag, c.tag) << c.text;
  }
}

TEST(ImageArgTest, RejectsDigestsAndEmptyParts) {
  for (const char* text : {"", ":latest", "ubuntu:", "ubuntu@sha256:abcd"}) {
    auto arg = ParseImageArg(text);
    ASSERT_FALSE(arg) << text;
    EXPECT_EQ(arg.error().code, Code::kInvalidArgument) << text;
  }
}

TEST(ImageArgTest, DisplayNameIsDockersShortForm) {
  EXPECT_EQ(DisplayName("ubuntu"), "ubuntu");
  EXPECT_EQ(DisplayName("library/ubuntu"), "ubuntu");
  EXPECT_EQ(DisplayName("docker.io/library/ubuntu"), "ubuntu");
  EXPECT_EQ(DisplayName("docker.io/ubuntu"), "ubuntu");
  EXPECT_EQ(DisplayName("docker.io/lgsd/diamond"), "lgsd/diamond");
  EXPECT_EQ(DisplayName("library/team/app"), "library/team/app");
  EXPECT_EQ(DisplayName("127.0.0.1:5000/library/app"), "127.0.0.1:5000/library/app");
}

}  // namespace
}  // namespace wharf::cli
