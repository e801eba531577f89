#include "wharf/api/request_params.h"

#include <gtest/gtest.h>

namespace wharf::api {
namespace {

HttpRequest Get(std::string target) {
  HttpRequest req;
  req.method = "GET";
  req.target = target;
  ParseTarget(target, req.path, req.params);
  return req;
}

TEST(RequestParamsTest, DepotFromWinsOverCategory) {
  EXPECT_EQ(*DepotParam(Get("/api/v1/image/")), "local");
  EXPECT_EQ(*DepotParam(Get("/api/v1/image/?category=qnap")), "qnap");
  EXPECT_EQ(*DepotParam(Get("/api/v1/image/?category=qnap&from=official")), "official");
  auto bad = DepotParam(Get("/api/v1/image/?category=nope"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("category must be one of"), std::string::npos);
}

TEST(RequestParamsTest, TypeAndPositive) {
  EXPECT_EQ(*TypeParam("", "type"), "");
  EXPECT_EQ(*TypeParam("lxc", "type"), "lxc");
  EXPECT_FALSE(TypeParam("Docker", "type"));
  EXPECT_EQ(*PositiveParam("25", "n", 100), 25);
  for (const char* bad : {"0", "101", "-1", "2x", "", " 3"}) {
    auto r = PositiveParam(bad, "n", 100);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message.rfind("n must be", 0), 0u);
  }
}

TEST(RequestParamsTest, CredentialsFromJsonOrFormButNotTheUrl) {
  HttpRequest form = Get("/api/v1/login");
  form.body = "username=admin&password=p%26ss+word";
  EXPECT_EQ(*Credentials(form), (std::pair<std::string, std::string>{"admin", "p&ss word"}));
  HttpRequest json = Get("/api/v1/login");
  json.body = R"({"username": "bob", "password": "x"})";
  EXPECT_EQ(*Credentials(json), (std::pair<std::string, std::string>{"bob", "x"}));
  json.body = R"({"username": 3})";
  EXPECT_FALSE(Credentials(json));
  HttpRequest query = Get("/api/v1/login?username=admin&password=secret");
  auto refused = Credentials(query);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kInvalidArgument);
}

TEST(RequestParamsTest, Utf8NamesTheParameter) {
  HttpRequest req = Get("/api/v1/image/?from=%ff");
  auto r = CheckUtf8(req, MatchRoute("GET", req.path));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "query parameter from is not valid UTF-8");
  req = Get("/api/v1/image/appcenter/lxc/debian/%ff/download");
  req.method = "POST";
  r = CheckUtf8(req, MatchRoute("POST", req.path));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "tag is not valid UTF-8");
  req = Get("/api/v1/nope%ff");
  r = CheckUtf8(req, MatchRoute("GET", req.path));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "the path is not valid UTF-8");
  EXPECT_TRUE(
      CheckUtf8(Get("/api/v1/image/?filter_text=caf%C3%A9"), MatchRoute("GET", "/api/v1/image/")));
}

TEST(RequestParamsTest, HostAllowed) {
  HttpRequest req = Get("/");
  req.headers = {{"host", "NAS.lan:8080"}};
  EXPECT_TRUE(HostAllowed(req, {}));
  EXPECT_TRUE(HostAllowed(req, {"nas.lan"}));
  EXPECT_FALSE(HostAllowed(req, {"evil.example"}));
  req.headers = {{"host", "[::1]:8080"}};
  EXPECT_TRUE(HostAllowed(req, {"[::1]"}));
  req.headers = {};
  EXPECT_FALSE(HostAllowed(req, {"nas.lan"}));
}

}  // namespace
}  // namespace wharf::api
