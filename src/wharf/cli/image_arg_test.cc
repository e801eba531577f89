#include "wharf/cli/image_arg.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

TEST(ImageArgTest, RefsTakeDigests) {
  const std::string digest = "sha256:" + std::string(64, 'a');
  auto arg = ParseImageRef("127.0.0.1:5000/team/app@" + digest);
  ASSERT_TRUE(arg);
  EXPECT_EQ(arg->name, "127.0.0.1:5000/team/app");
  EXPECT_EQ(arg->tag, "");
  EXPECT_EQ(arg->digest, digest);
  EXPECT_EQ(TagOrDigest(*arg), digest);
  EXPECT_EQ(JoinRef(arg->name, digest), "127.0.0.1:5000/team/app@" + digest);
  auto tagged = ParseImageRef("app:v2");
  ASSERT_TRUE(tagged);
  EXPECT_EQ(TagOrDigest(*tagged), "v2");
  EXPECT_EQ(JoinRef("app", "v2"), "app:v2");
  EXPECT_EQ(TagOrDigest(*ParseImageRef("app")), "latest");
  for (const std::string& text : std::vector<std::string>{
           "app@sha256:abcd", "app@md5:" + std::string(64, 'a'),
           "app@sha256:" + std::string(64, 'A'), "app:v2@" + digest, "@" + digest}) {
    auto bad = ParseImageRef(text);
    ASSERT_FALSE(bad) << text;
    EXPECT_EQ(bad.error().code, Code::kInvalidArgument) << text;
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
