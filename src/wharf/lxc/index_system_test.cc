#include "wharf/lxc/index_system.h"

#include <gtest/gtest.h>

namespace wharf::lxc {
namespace {

const char* kIndex =
    "debian;bookworm;amd64;default;20240101_05:24;/images/debian/bookworm/amd64/default/"
    "20240101_05:24/\n"
    "debian;bookworm;amd64;default;20240102_05:24;/images/debian/bookworm/amd64/default/"
    "20240102_05:24/\n"
    "debian;bookworm;arm64;default;20240105_05:24;/images/debian/bookworm/arm64/default/"
    "20240105_05:24/\n"
    "debian;bookworm;amd64;cloud;20240109_05:24;/images/debian/bookworm/amd64/cloud/x/\n"
    "ubuntu;noble;amd64;default;20240101_07:42;images/ubuntu/noble/amd64/default/20240101\r\n"
    "broken;line\n"
    "alpine;3.20;amd64;default;;/images/alpine/\n"
    "alpine;3.20;amd64;default;current;/images/alpine/current/\n"
    "evil;1;amd64;default;20240101_00:00;/images/../../etc/\n"
    "\n";

TEST(IndexSystemTest, FindsBuilds) {
  struct Case {
    ImageQuery query;
    std::string serial;  // empty: NotFound
    std::string dir;
  } cases[] = {
      {{"debian", "bookworm", "amd64", "default"},
       "20240102_05:24",
       "/images/debian/bookworm/amd64/default/20240102_05:24/"},
      {{"Debian", "bookworm", "x86_64", "default"},
       "20240102_05:24",
       "/images/debian/bookworm/amd64/default/20240102_05:24/"},
      {{"debian", "bookworm", "amd64", "default", "20240101_05:24"},
       "20240101_05:24",
       "/images/debian/bookworm/amd64/default/20240101_05:24/"},
      {{"debian", "bookworm", "aarch64", "default"},
       "20240105_05:24",
       "/images/debian/bookworm/arm64/default/20240105_05:24/"},
      {{"ubuntu", "noble", "amd64", "default"},
       "20240101_07:42",
       "images/ubuntu/noble/amd64/default/20240101/"},
      {{"debian", "bookworm", "amd64", "default", "20240109_05:24"}, "", ""},
      {{"alpine", "3.20", "amd64", "default"}, "", ""},
      {{"debian", "trixie", "amd64", "default"}, "", ""},
  };
  for (const auto& c : cases) {
    auto build = FindIndexBuild(kIndex, c.query);
    if (c.serial.empty()) {
      ASSERT_FALSE(build) << c.query.Describe();
      EXPECT_EQ(build.error().code, Code::kNotFound);
      continue;
    }
    ASSERT_TRUE(build) << c.query.Describe() << ": " << build.error().message;
    EXPECT_EQ(build->serial, c.serial);
    EXPECT_EQ(build->dir, c.dir);
  }
}

TEST(IndexSystemTest, RejectsPathsWithDotDot) {
  auto build = FindIndexBuild(kIndex, {"evil", "1", "amd64", "default"});
  ASSERT_FALSE(build);
  EXPECT_EQ(build.error().code, Code::kInvalidArgument);
  EXPECT_NE(build.error().message.find("unsafe"), std::string::npos);
}

TEST(IndexSystemTest, ParsesSha256Sums) {
  std::string a(64, 'a'), b(64, 'B'), c(64, 'c');
  std::string text = a + "  rootfs.tar.xz\n" + b + " *meta.tar.xz\n" + c + "  ./SHA256SUMS.asc\n" +
                     "garbage line\n" + std::string(63, 'd') + "  short.txt\n";
  auto sums = ParseSha256Sums(text);
  EXPECT_EQ(sums.size(), 3u);
  EXPECT_EQ(sums["rootfs.tar.xz"], a);
  EXPECT_EQ(sums["meta.tar.xz"], std::string(64, 'b'));
  EXPECT_EQ(sums["SHA256SUMS.asc"], c);
  EXPECT_FALSE(sums.contains("short.txt"));
}

}  // namespace
}  // namespace wharf::lxc
