#include "wharf/lxc/remote_image.h"

#include <gtest/gtest.h>

#include "wharf/lxc/arch.h"

namespace wharf::lxc {
namespace {

TEST(ArchTest, KernelNamesMapToDebianNames) {
  struct Case {
    const char* in;
    const char* want;
  } cases[] = {
      {"x86_64", "amd64"},    {"aarch64", "arm64"}, {"armv7l", "armhf"},    {"i686", "i386"},
      {"ppc64le", "ppc64el"}, {"s390x", "s390x"},   {"riscv64", "riscv64"}, {"amd64", "amd64"},
      {"arm64", "arm64"},     {"armhf", "armhf"},   {"mips64", "mips64"},
  };
  for (const auto& c : cases) EXPECT_EQ(DebianArch(c.in), c.want) << c.in;
}

TEST(ArchTest, AutoMeansTheHost) {
  EXPECT_EQ(EffectiveArch("auto"), HostArch());
  EXPECT_EQ(EffectiveArch(""), HostArch());
  EXPECT_EQ(EffectiveArch("aarch64"), "arm64");
  EXPECT_NE(HostArch(), "x86_64");  // always a Debian name
}

TEST(RemoteImageTest, BuildSerialsStartWithADate) {
  EXPECT_TRUE(IsBuildSerial("20240101_05:24"));
  EXPECT_TRUE(IsBuildSerial("20240101"));
  EXPECT_FALSE(IsBuildSerial("latest"));
  EXPECT_FALSE(IsBuildSerial("2024010"));
  EXPECT_FALSE(IsBuildSerial("2024-01-01"));
  EXPECT_FALSE(IsBuildSerial(""));
}

TEST(RemoteImageTest, PickSerialTakesTheNewestOrTheOneAskedFor) {
  struct Case {
    std::vector<std::string> keys;
    std::string wanted;
    std::optional<std::string> want;
  } cases[] = {
      {{"20240101_05:24", "20240102_05:24", "20231231_23:59"}, "", "20240102_05:24"},
      {{"20240101_05:24", "20240101_17:00"}, "", "20240101_17:00"},
      {{"20240101_05:24", "zzz-not-a-build", "current"}, "", "20240101_05:24"},
      {{"current", "latest"}, "", std::nullopt},
      {{}, "", std::nullopt},
      {{"20240101_05:24", "20240102_05:24"}, "20240101_05:24", "20240101_05:24"},
      {{"20240101_05:24"}, "20990101_00:00", std::nullopt},
      {{"current"}, "current", std::nullopt},  // not a build serial
  };
  for (const auto& c : cases) {
    EXPECT_EQ(PickSerial(c.keys, c.wanted), c.want) << c.wanted;
  }
}

TEST(RemoteImageTest, ServerPathsMustStayUnderTheRoot) {
  struct Case {
    const char* path;
    bool allow_leading_slash;
    bool want;
  } cases[] = {
      {"images/debian/bookworm/amd64/default/20240101_05:24/rootfs.tar.xz", false, true},
      {"streams/v1/images.json", false, true},
      {"/images/debian/bookworm/", false, false},
      {"/images/debian/bookworm/", true, true},
      {"images/../../etc/passwd", false, false},
      {"/images/../secret/", true, false},
      {"..", false, false},
      {"images/..", false, false},
      {"images/..foo/x", false, true},  // ".." only as a whole component
      {"", false, false},
      {"a b", false, false},
      {"a?b", false, false},
      {"a#b", false, false},
      {"a\\b", false, false},
      {"a\nb", false, false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(IsSafeServerPath(c.path, c.allow_leading_slash), c.want) << c.path;
  }
}

TEST(RemoteImageTest, DotDotOnlyAsAWholeComponent) {
  EXPECT_TRUE(HasDotDotSegment(".."));
  EXPECT_TRUE(HasDotDotSegment("a/../b"));
  EXPECT_TRUE(HasDotDotSegment("/.."));
  EXPECT_TRUE(HasDotDotSegment("a/.."));
  EXPECT_FALSE(HasDotDotSegment("a/..b/c"));
  EXPECT_FALSE(HasDotDotSegment("..a"));
  EXPECT_FALSE(HasDotDotSegment("./a/."));
  EXPECT_FALSE(HasDotDotSegment(""));
}

TEST(RemoteImageTest, JoinUrlHasOneSlash) {
  EXPECT_EQ(JoinUrl("http://h:1", "a/b"), "http://h:1/a/b");
  EXPECT_EQ(JoinUrl("http://h:1/", "/a/b"), "http://h:1/a/b");
  EXPECT_EQ(JoinUrl("http://h:1/mirror//", "a"), "http://h:1/mirror/a");
}

TEST(RemoteImageTest, Sha256IsNormalised) {
  std::string upper(64, 'A');
  EXPECT_EQ(NormalizeSha256(upper), std::string(64, 'a'));
  EXPECT_EQ(NormalizeSha256(std::string(63, 'a')), std::nullopt);
  EXPECT_EQ(NormalizeSha256(std::string(64, 'g')), std::nullopt);
}

}  // namespace
}  // namespace wharf::lxc
