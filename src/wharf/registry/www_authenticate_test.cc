#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wharf/registry/client.h"

namespace wharf::registry {
namespace {

using Params = std::map<std::string, std::string>;

struct Case {
  std::string name;
  std::string header;
  std::vector<Challenge> want;
};

class WwwAuthenticateTest : public ::testing::TestWithParam<Case> {};

TEST_P(WwwAuthenticateTest, Parses) {
  const Case& c = GetParam();
  std::vector<Challenge> got = ParseWwwAuthenticate(c.header);
  ASSERT_EQ(got.size(), c.want.size()) << c.header;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].scheme, c.want[i].scheme) << c.header;
    EXPECT_EQ(got[i].params, c.want[i].params) << c.header;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, WwwAuthenticateTest,
    ::testing::Values(
        Case{"DockerHub",
             R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
             R"(scope="repository:library/ubuntu:pull")",
             {{"bearer", Params{{"realm", "https://auth.docker.io/token"},
                                {"service", "registry.docker.io"},
                                {"scope", "repository:library/ubuntu:pull"}}}}},
        Case{"MultiChallenge",
             R"(Basic realm="x", Bearer realm="y",service="z")",
             {{"basic", Params{{"realm", "x"}}},
              {"bearer", Params{{"realm", "y"}, {"service", "z"}}}}},
        Case{"ScopeWithCommas",
             R"(Bearer realm="r",scope="repository:a:pull,push",service="s")",
             {{"bearer",
               Params{{"realm", "r"}, {"scope", "repository:a:pull,push"}, {"service", "s"}}}}},
        Case{"EscapedQuotes",
             R"(Basic realm="say \"hi\", C:\\dir")",
             {{"basic", Params{{"realm", R"(say "hi", C:\dir)"}}}}},
        Case{"CaseInsensitiveSchemeAndNames",
             R"(BEARER Realm="R",SERVICE="S")",
             {{"bearer", Params{{"realm", "R"}, {"service", "S"}}}}},
        Case{"AnyOrderSpacesAndBareTokens",
             R"(Bearer  service = reg , scope=repository:x:pull ,realm="https://a/t")",
             {{"bearer",
               Params{
                   {"service", "reg"}, {"scope", "repository:x:pull"}, {"realm", "https://a/t"}}}}},
        Case{"ErrorParam",
             R"(Bearer realm="r",error="insufficient_scope",scope="repository:a:pull")",
             {{"bearer", Params{{"realm", "r"},
                                {"error", "insufficient_scope"},
                                {"scope", "repository:a:pull"}}}}},
        Case{"Token68ThenChallenge",
             R"(Negotiate abc+/def==, Basic realm="b")",
             {{"negotiate", Params{{"token68", "abc+/def=="}}}, {"basic", Params{{"realm", "b"}}}}},
        Case{"SchemeOnly", "Basic", {{"basic", Params{}}}},
        Case{"MissingCommaBetweenParams",
             R"(Bearer realm="r" service="s")",
             {{"bearer", Params{{"realm", "r"}, {"service", "s"}}}}},
        Case{"Empty", "", {}}, Case{"OnlySeparators", " , ,, ", {}},
        Case{"ParamWithoutScheme", R"(realm="x", Basic)", {{"basic", Params{}}}},
        Case{"UnterminatedQuote",
             R"(Bearer realm="https://auth)",
             {{"bearer", Params{{"realm", "https://auth"}}}}},
        Case{"TrailingBackslash", "Bearer realm=\"a\\", {{"bearer", Params{{"realm", "a\\"}}}}},
        Case{"Garbage", "\"\"\"===;;;@@@ \x01\xff", {}}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(WwwAuthenticateFuzzTest, NeverCrashesOnPrefixesAndNoise) {
  const std::string header =
      R"(Basic realm="x\"y", Bearer realm="https://a/t",service="s",scope="repository:a:pull,push")";
  const size_t basic_end = header.find(',');
  for (size_t n = 0; n <= header.size(); ++n) {
    auto got = ParseWwwAuthenticate(header.substr(0, n));
    for (const auto& c : got) EXPECT_FALSE(c.scheme.empty());
    // A truncated tail never disturbs the complete challenge before it.
    if (n >= basic_end) {
      ASSERT_FALSE(got.empty());
      EXPECT_EQ(got[0].scheme, "basic");
      EXPECT_EQ(got[0].params, (Params{{"realm", "x\"y"}}));
    }
  }
  std::string noise;
  for (int i = 0; i < 2000; ++i) noise += static_cast<char>((i * 7919) % 256);
  auto got = ParseWwwAuthenticate(noise);
  for (const auto& c : got) EXPECT_FALSE(c.scheme.empty());
}

}  // namespace
}  // namespace wharf::registry
