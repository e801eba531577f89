#include "wharf/daemon/listen_url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace wharf::daemon {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ListenUrlTest, TheFlagComesBeforeTheEnvironment) {
  ASSERT_EQ(::setenv("WHARF_LISTEN", "127.0.0.1:9001", 1), 0);
  EXPECT_EQ(GivenListen("127.0.0.1:9002").value, "127.0.0.1:9002");
  EXPECT_STREQ(GivenListen("127.0.0.1:9002").origin, "--listen");
  EXPECT_EQ(GivenListen("").value, "127.0.0.1:9001");
  EXPECT_STREQ(GivenListen("").origin, "WHARF_LISTEN");
  ASSERT_EQ(::setenv("WHARF_LISTEN", "", 1), 0);  // empty = unset: the file's `listen`
  EXPECT_EQ(GivenListen("").value, "");
  ASSERT_EQ(::unsetenv("WHARF_LISTEN"), 0);
  EXPECT_EQ(GivenListen("").value, "");
  EXPECT_STREQ(GivenListen("").origin, "");
}

TEST(ListenUrlTest, PageUrlNamesSchemeHostAndPort) {
  EXPECT_EQ(PageUrl(false, "127.0.0.1", 8080), "http://127.0.0.1:8080/");
  EXPECT_EQ(PageUrl(true, "nas.lan", 8443), "https://nas.lan:8443/");
  EXPECT_EQ(PageUrl(false, "::1", 8080), "http://[::1]:8080/");
  EXPECT_EQ(PageUrl(false, "[::1]", 8080), "http://[::1]:8080/");
}

TEST(ListenUrlTest, WildcardHosts) {
  for (const char* host : {"", "0.0.0.0", "::", "[::]"}) EXPECT_TRUE(IsWildcardHost(host)) << host;
  for (const char* host : {"127.0.0.1", "::1", "localhost", "192.168.1.10"}) {
    EXPECT_FALSE(IsWildcardHost(host)) << host;
  }
}

TEST(ListenUrlTest, TheLineOfOneAddressGivesItsUrl) {
  const std::string line = ListeningLine(false, "127.0.0.1", 8080);
  EXPECT_THAT(line, HasSubstr("http://127.0.0.1:8080/"));
  EXPECT_THAT(line, HasSubstr("web page"));
  EXPECT_THAT(line, Not(HasSubstr("every")));
  EXPECT_THAT(ListeningLine(true, "127.0.0.1", 8443), HasSubstr("https://127.0.0.1:8443/"));
}

TEST(ListenUrlTest, TheLineOfEveryAddressSaysSoAndSuggestsTheHostsAddress) {
  const std::string v4 = ListeningLine(false, "0.0.0.0", 8080);
  EXPECT_THAT(v4, HasSubstr("every IPv4 address"));
  EXPECT_THAT(v4, HasSubstr("http://HOST:8080/"));
  EXPECT_THAT(v4, HasSubstr("this machine's address"));
  EXPECT_THAT(v4, HasSubstr("http://127.0.0.1:8080/"));
  EXPECT_THAT(v4, Not(HasSubstr("0.0.0.0:8080")));
  const std::string v6 = ListeningLine(true, "::", 9443);
  EXPECT_THAT(v6, HasSubstr("every address"));
  EXPECT_THAT(v6, HasSubstr("https://[::1]:9443/"));
}

TEST(ListenUrlTest, TheHintNamesEverySettingOfTheAddress) {
  const std::string hint = ListenSettingsHint();
  for (const char* setting : {"--listen", "WHARF_LISTEN", "`listen`", "LISTEN=HOST:PORT"}) {
    EXPECT_THAT(hint, HasSubstr(setting));
  }
}

}  // namespace
}  // namespace wharf::daemon
