#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "wharf/oci/image.h"
#include "wharf/oci/test_manifests.h"

namespace wharf::oci {
namespace {

using namespace test_data;

TEST(PlatformTest, NormalizesAliasesAndDefaultVariants) {
  const std::vector<std::pair<Platform, Platform>> cases = {
      {{"linux", "aarch64", ""}, {"linux", "arm64", "v8"}},
      {{"linux", "arm64", ""}, {"linux", "arm64", "v8"}},
      {{"linux", "arm64", "v8"}, {"linux", "arm64", "v8"}},
      {{"linux", "arm64", "8"}, {"linux", "arm64", "v8"}},
      {{"linux", "arm64", "v9"}, {"linux", "arm64", "v9"}},
      {{"linux", "x86_64", ""}, {"linux", "amd64", ""}},
      {{"linux", "x86-64", ""}, {"linux", "amd64", ""}},
      {{"linux", "amd64", "v1"}, {"linux", "amd64", ""}},
      {{"linux", "amd64", "v3"}, {"linux", "amd64", "v3"}},
      {{"linux", "i386", ""}, {"linux", "386", ""}},
      {{"linux", "i686", ""}, {"linux", "386", ""}},
      {{"linux", "armhf", ""}, {"linux", "arm", "v7"}},
      {{"linux", "armel", ""}, {"linux", "arm", "v6"}},
      {{"linux", "arm", ""}, {"linux", "arm", "v7"}},
      {{"linux", "arm", "6"}, {"linux", "arm", "v6"}},
      {{"linux", "armv7l", ""}, {"linux", "arm", "v7"}},
      {{"linux", "armv6l", ""}, {"linux", "arm", "v6"}},
      {{"Linux", "AMD64", ""}, {"linux", "amd64", ""}},
      {{"linux", "s390x", ""}, {"linux", "s390x", ""}},
      {{"windows", "amd64", ""}, {"windows", "amd64", ""}},
  };
  for (const auto& [input, want] : cases) {
    SCOPED_TRACE(input.String());
    EXPECT_EQ(Normalize(input), want);
    EXPECT_EQ(Normalize(Normalize(input)), want);  // idempotent
  }
}

TEST(PlatformTest, ParsesAndPrintsPlatformStrings) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"linux/amd64", "linux/amd64"},      {"linux/arm64", "linux/arm64/v8"},
      {"linux/aarch64", "linux/arm64/v8"}, {"linux/arm/v6", "linux/arm/v6"},
      {"linux/arm", "linux/arm/v7"},       {"linux/x86_64", "linux/amd64"},
  };
  for (const auto& [text, want] : cases) {
    auto platform = ParsePlatform(text);
    ASSERT_TRUE(platform) << text << ": " << platform.error().ToString();
    EXPECT_EQ(platform->String(), want);
  }
  for (std::string bad : {"", "linux", "linux/", "/amd64", "linux/amd64/v8/x", "linux/am d64"}) {
    auto platform = ParsePlatform(bad);
    ASSERT_FALSE(platform) << bad;
    EXPECT_NE(platform.error().message.find("invalid platform"), std::string::npos);
  }
}

TEST(PlatformTest, HostPlatformIsNormalisedLinux) {
  Platform host = HostPlatform();
  EXPECT_EQ(host.os, "linux");
  EXPECT_FALSE(host.architecture.empty());
  EXPECT_EQ(Normalize(host), host);
}

TEST(PlatformTest, MatchesComparesNormalisedPlatforms) {
  struct Case {
    Platform want;
    Platform have;
    bool matches;
  };
  const std::vector<Case> cases = {
      {{"linux", "amd64", ""}, {"linux", "amd64", ""}, true},
      {{"linux", "x86_64", ""}, {"linux", "amd64", ""}, true},
      {{"linux", "amd64", ""}, {"linux", "amd64", "v3"}, true},  // empty variant: any
      {{"linux", "amd64", "v3"}, {"linux", "amd64", ""}, false},
      {{"linux", "amd64", "v1"}, {"linux", "amd64", ""}, true},
      {{"linux", "arm64", ""}, {"linux", "arm64", "v8"}, true},
      {{"linux", "aarch64", "v8"}, {"linux", "arm64", ""}, true},
      {{"linux", "arm", ""}, {"linux", "arm", "v7"}, true},
      {{"linux", "arm", "v6"}, {"linux", "arm", "v7"}, false},
      {{"linux", "amd64", ""}, {"windows", "amd64", ""}, false},
      {{"linux", "amd64", ""}, {"linux", "arm64", ""}, false},
      {{"Linux", "amd64", ""}, {"linux", "amd64", ""}, true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Matches(c.want, c.have), c.matches) << c.want.String() << " vs " << c.have.String();
  }
}

TEST(ChoosePlatformTest, PicksMatchingEntryAndSkipsAttestations) {
  auto index = ParseIndex(kOciIndexWithAttestation);
  ASSERT_TRUE(index);
  auto amd64 = ChoosePlatform(*index, {"linux", "amd64", ""});
  ASSERT_TRUE(amd64) << amd64.error().ToString();
  EXPECT_EQ(amd64->digest.str(), kAmd64Digest);
  auto arm64 = ChoosePlatform(*index, {"linux", "aarch64", ""});
  ASSERT_TRUE(arm64) << arm64.error().ToString();
  EXPECT_EQ(arm64->digest.str(), kArm64Digest);
  auto unknown = ChoosePlatform(*index, {"unknown", "unknown", ""});
  ASSERT_FALSE(unknown);

  auto list = ParseIndex(kDockerManifestListBody);
  ASSERT_TRUE(list);
  auto armhf = ChoosePlatform(*list, {"linux", "armhf", ""});
  ASSERT_TRUE(armhf) << armhf.error().ToString();
  EXPECT_EQ(armhf->digest.str(), kArmV7Digest);
}

TEST(ChoosePlatformTest, PrefersExactVariant) {
  Index index;
  index.media_type = std::string(kOciIndex);
  auto entry = [](const std::string& digest, Platform platform) {
    Descriptor d;
    d.media_type = std::string(kOciManifest);
    d.digest = *Digest::Parse(digest);
    d.platform = std::move(platform);
    return d;
  };
  index.manifests.push_back(entry(kArm64Digest, {"linux", "amd64", "v3"}));
  index.manifests.push_back(entry(kAmd64Digest, {"linux", "amd64", ""}));
  index.manifests.push_back(entry(kArmV7Digest, {"linux", "amd64", "v2"}));
  index.manifests.push_back(entry(kLayer1Digest, {"linux", "arm64", "v8"}));  // no platform below
  index.manifests.back().platform.reset();

  EXPECT_EQ(ChoosePlatform(index, {"linux", "amd64", ""})->digest.str(), kAmd64Digest);
  EXPECT_EQ(ChoosePlatform(index, {"linux", "amd64", "v2"})->digest.str(), kArmV7Digest);
  // Entries without a platform are never chosen.
  EXPECT_FALSE(ChoosePlatform(index, {"linux", "arm64", ""}));
}

TEST(ChoosePlatformTest, ErrorListsAvailablePlatforms) {
  auto index = ParseIndex(kOciIndexWithAttestation);
  ASSERT_TRUE(index);
  auto chosen = ChoosePlatform(*index, {"linux", "s390x", ""});
  ASSERT_FALSE(chosen);
  EXPECT_EQ(chosen.error().code, Code::kNotFound);
  EXPECT_EQ(chosen.error().message,
            "no image for linux/s390x in this index; it has linux/amd64, linux/arm64/v8");

  auto empty = ChoosePlatform(Index{}, {"linux", "amd64", ""});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "no image for linux/amd64 in this index; it lists no platforms");
}

}  // namespace
}  // namespace wharf::oci
