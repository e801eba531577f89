#include "wharf/api/http_message.h"

#include <gtest/gtest.h>

namespace wharf::api {
namespace {

TEST(HttpMessageTest, PercentDecode) {
  struct Case {
    std::string in;
    bool plus;
    std::string out;
  } cases[] = {
      {"a%41b", false, "aAb"}, {"a+b", true, "a b"},
      {"a+b", false, "a+b"},   {"%2f%2F", false, "//"},
      {"100%", false, "100%"}, {"%4", false, "%4"},
      {"%zz", false, "%zz"},   {"%00x", false, std::string("\0x", 2)},
      {"%ff", true, "\xff"},   {"", true, ""},
  };
  for (const auto& c : cases) EXPECT_EQ(PercentDecode(c.in, c.plus), c.out) << c.in;
}

TEST(HttpMessageTest, ParseTargetSplitsPathAndQuery) {
  std::string path;
  Fields params;
  ParseTarget("/api/v1/image/?from=local&filter_text=a%20b+c&type=&flag&&from=x", path, params);
  EXPECT_EQ(path, "/api/v1/image/");
  Fields want = {
      {"from", "local"}, {"filter_text", "a b c"}, {"type", ""}, {"flag", ""}, {"from", "x"}};
  EXPECT_EQ(params, want);
  ParseTarget("/web/app.js%00.png", path, params);
  EXPECT_EQ(path, std::string("/web/app.js\0.png", 16));
  EXPECT_TRUE(params.empty());
  ParseTarget("/a+b", path, params);  // '+' is a space only in queries
  EXPECT_EQ(path, "/a+b");
}

TEST(HttpMessageTest, RequestLookups) {
  HttpRequest req;
  req.headers = {{"content-type", "text/plain"}, {"cookie", "a=1"}};
  req.params = {{"from", "local"}, {"from", "dockerhub"}};
  ASSERT_NE(req.Header("Content-Type"), nullptr);
  EXPECT_EQ(*req.Header("CONTENT-TYPE"), "text/plain");
  EXPECT_EQ(req.Header("host"), nullptr);
  EXPECT_EQ(req.HeaderOr("host", "none"), "none");
  EXPECT_EQ(req.Param("from"), "local");  // the first one
  EXPECT_TRUE(req.HasParam("from"));
  EXPECT_FALSE(req.HasParam("From"));  // parameter names are case-sensitive
  EXPECT_FALSE(req.Abandoned());
  std::atomic<bool> stopping{true};
  req.server_stopping = &stopping;
  EXPECT_TRUE(req.Abandoned());
}

TEST(HttpMessageTest, CookieValue) {
  struct Case {
    std::string header;
    std::string value;
  } cases[] = {
      {"wharf_session=abc", "abc"},
      {"x=1; wharf_session=abc; y=2", "abc"},
      {"x=1;wharf_session=abc", "abc"},
      {"wharf_session_old=zzz; wharf_session=abc", "abc"},
      {"wharf_sessionx=abc", ""},
      {"wharf_session", ""},
      {"", ""},
      {"wharf_session=", ""},
  };
  for (const auto& c : cases)
    EXPECT_EQ(CookieValue(c.header, "wharf_session"), c.value) << c.header;
}

TEST(HttpMessageTest, BasicAndBearer) {
  auto creds = BasicCredentials("Basic YWxpY2U6cDpzcw==");  // alice:p:ss
  ASSERT_TRUE(creds);
  EXPECT_EQ(creds->first, "alice");
  EXPECT_EQ(creds->second, "p:ss");
  EXPECT_TRUE(BasicCredentials("basic  YTpi"));      // a:b, any case, extra space
  EXPECT_FALSE(BasicCredentials("Basic YWxpY2U="));  // no ':'
  EXPECT_FALSE(BasicCredentials("Basic !!!"));
  EXPECT_FALSE(BasicCredentials("Bearer abc"));
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("Basic abc"), "");
}

TEST(HttpMessageTest, ParseRange) {
  struct Case {
    std::string header;
    ByteRange::Kind kind;
    uint64_t first, length;
  } cases[] = {
      {"", ByteRange::kWhole, 0, 0},
      {"bytes=0-99", ByteRange::kPart, 0, 100},
      {"bytes=100-", ByteRange::kPart, 100, 900},
      {"bytes=900-5000", ByteRange::kPart, 900, 100},
      {"bytes=-10", ByteRange::kPart, 990, 10},
      {"bytes=-5000", ByteRange::kPart, 0, 1000},
      {"bytes=1000-", ByteRange::kUnsatisfiable, 0, 0},
      {"bytes=-0", ByteRange::kUnsatisfiable, 0, 0},
      {"bytes=5-1", ByteRange::kWhole, 0, 0},
      {"bytes=0-1,5-6", ByteRange::kWhole, 0, 0},
      {"items=0-1", ByteRange::kWhole, 0, 0},
      {"bytes=a-b", ByteRange::kWhole, 0, 0},
      {"bytes=99999999999999999999-", ByteRange::kWhole, 0, 0},
  };
  for (const auto& c : cases) {
    ByteRange r = ParseRange(c.header, 1000);
    EXPECT_EQ(r.kind, c.kind) << c.header;
    if (c.kind == ByteRange::kPart) {
      EXPECT_EQ(r.first, c.first) << c.header;
      EXPECT_EQ(r.length, c.length) << c.header;
    }
  }
}

}  // namespace
}  // namespace wharf::api
