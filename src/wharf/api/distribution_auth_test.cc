// Who may pull from the Distribution API: the challenge a client without credentials gets,
// Docker's token flow (scoped, expiring on the clock), Basic credentials on each request
// (verified once a minute at most), the login throttle, anonymous serving, and the lanes.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "wharf/api/distribution.h"
#include "wharf/api/distribution_test_util.h"

namespace wharf::api {
namespace {

constexpr char kBusybox[] = "/v2/library/busybox/manifests/1.36";
constexpr char kDiamond[] = "/v2/lgsd/diamond/manifests/1.0";

class DistributionAuthTest : public DistributionTest {
 protected:
  void SetUp() override {
    service::PutTestImage(s_, "docker.io/library/busybox", "busybox", "1.36", "bb");
    service::PutTestImage(s_, "docker.io/lgsd/diamond", "lgsd/diamond", "1.0", "dia");
    s_.changes.Count();
  }
  // A token from /v2/token for `query` with `credentials`; "" (and a failure) if refused.
  std::string Token(const std::string& query, const std::string& credentials = kAlice) {
    HttpResponse res = Get("/v2/token?service=wharf&" + query, {{"authorization", credentials}});
    EXPECT_EQ(res.status, 200) << BodyOf(res);
    if (res.status != 200) return "";
    return nlohmann::json::parse(BodyOf(res))["token"];
  }
  static Fields Bearer(const std::string& token) { return {{"authorization", "Bearer " + token}}; }
  static std::string Challenge(const std::string& scope, const std::string& scheme = "http",
                               const std::string& host = kHost) {
    std::string challenge =
        "Bearer realm=\"" + scheme + "://" + host + "/v2/token\",service=\"wharf\"";
    return scope.empty() ? challenge : challenge + ",scope=\"" + scope + "\"";
  }
};

TEST_F(DistributionAuthTest, NoCredentialsIsUnauthorizedWithABearerChallengeForTheScope) {
  struct Case {
    std::string target;
    std::string scope;
  };
  for (const Case& c : std::vector<Case>{
           {"/v2/", ""},
           {kBusybox, "repository:library/busybox:pull"},
           {"/v2/busybox/blobs/sha256:" + std::string(64, '0'), "repository:busybox:pull"},
           {"/v2/lgsd/diamond/tags/list", "repository:lgsd/diamond:pull"},
           {"/v2/_catalog", ""},
       }) {
    SCOPED_TRACE(c.target);
    for (const Fields& headers : {Fields{}, Fields{{"authorization", "Digest abc"}}}) {
      HttpResponse res = Get(c.target, headers);
      EXPECT_EQ(res.status, 401);
      EXPECT_EQ(ErrorCode(res), "UNAUTHORIZED") << BodyOf(res);
      EXPECT_EQ(HeaderOf(res, "WWW-Authenticate"), Challenge(c.scope));
      EXPECT_EQ(HeaderOf(res, "Docker-Distribution-API-Version"), "registry/2.0");
    }
  }
}

TEST_F(DistributionAuthTest, TheRealmIsTheHostAsSentSafeInQuotesAndHttpsUnderTls) {
  options_.tls = true;
  EXPECT_EQ(HeaderOf(dist().Answer(DistRequest("GET", "/v2/")), "WWW-Authenticate"),
            Challenge("", "https"));
  EXPECT_EQ(HeaderOf(dist().Answer(DistRequest("GET", "/v2/", {{"host", "[::1]:5000"}})),
                     "WWW-Authenticate"),
            Challenge("", "https", "[::1]:5000"));
  EXPECT_EQ(HeaderOf(dist().Answer(DistRequest("GET", "/v2/", {{"host", "a\"b,c=d\\ e"}})),
                     "WWW-Authenticate"),
            Challenge("", "https", "abcde"));
  EXPECT_EQ(
      HeaderOf(dist().Answer(DistRequest("GET", "/v2/", {{"host", "\""}})), "WWW-Authenticate"),
      Challenge("", "https", "localhost"));
}

TEST_F(DistributionAuthTest, TheTokenEndpointWantsAWharfUsersBasicCredentials) {
  const std::string target = "/v2/token?service=wharf&scope=repository:library/busybox:pull";
  HttpResponse none = Get(target, {});
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(ErrorCode(none), "UNAUTHORIZED");
  EXPECT_EQ(HeaderOf(none, "WWW-Authenticate"), "Basic realm=\"wharf\"");
  for (const std::string& credentials :
       std::vector<std::string>{kAliceWrong, "Basic Y2Fyb2w6eA=="}) {  // carol:x
    HttpResponse wrong = Get(target, {{"authorization", credentials}});
    EXPECT_EQ(wrong.status, 401) << credentials;
    EXPECT_EQ(ErrorCode(wrong), "UNAUTHORIZED");
  }

  HttpResponse issued = Get(target, {{"authorization", kBob}});
  ASSERT_EQ(issued.status, 200) << BodyOf(issued);
  auto body = nlohmann::json::parse(BodyOf(issued));
  const std::string token = body["token"];
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(body["access_token"], token);
  EXPECT_EQ(body["expires_in"], 300);
  EXPECT_EQ(body["issued_at"], "2023-11-14T22:13:20Z");              // the fake clock's time
  EXPECT_NE(Token("scope=repository:library/busybox:pull"), token);  // a new one each time
}

TEST_F(DistributionAuthTest, ATokenCoversTheRepositoriesItsScopesNamedUntilItExpires) {
  const std::string token = Token("scope=repository:library/busybox:pull");
  // Any spelling of the name it covers, any endpoint of it.
  for (const std::string& target : std::vector<std::string>{
           std::string(kBusybox), std::string("/v2/busybox/manifests/1.36"),
           std::string("/v2/library/busybox/tags/list"), std::string("/v2/")}) {
    EXPECT_EQ(Get(target, Bearer(token)).status, 200) << target;
  }
  HttpResponse other = Get(kDiamond, Bearer(token));
  EXPECT_EQ(other.status, 401);
  EXPECT_EQ(ErrorCode(other), "UNAUTHORIZED");
  EXPECT_EQ(HeaderOf(other, "WWW-Authenticate"), Challenge("repository:lgsd/diamond:pull"));
  HttpResponse catalog = Get("/v2/_catalog", Bearer(token));
  EXPECT_EQ(catalog.status, 401);
  EXPECT_EQ(HeaderOf(catalog, "WWW-Authenticate"), Challenge("registry:catalog:*"));

  clock_.Advance(std::chrono::seconds(299));
  EXPECT_EQ(Get(kBusybox, Bearer(token)).status, 200);
  clock_.Advance(std::chrono::seconds(2));
  HttpResponse expired = Get(kBusybox, Bearer(token));
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(HeaderOf(expired, "WWW-Authenticate"), Challenge("repository:library/busybox:pull"));
  for (const std::string& forged :
       std::vector<std::string>{std::string(64, 'a'), std::string("short")}) {
    EXPECT_EQ(Get(kBusybox, Bearer(forged)).status, 401) << forged;
  }
}

TEST_F(DistributionAuthTest, ScopesComeRepeatedOrSpaceSeparatedAndOnlyPullCounts) {
  const std::string both = Token(
      "scope=repository:library/busybox:pull%20registry:catalog:*"
      "&scope=repository:lgsd/diamond:push,pull");
  EXPECT_EQ(Get(kBusybox, Bearer(both)).status, 200);
  EXPECT_EQ(Get(kDiamond, Bearer(both)).status, 200);
  HttpResponse catalog = Get("/v2/_catalog", Bearer(both));
  EXPECT_EQ(catalog.status, 200) << BodyOf(catalog);

  const std::string push_only = Token("scope=repository:library/busybox:push");
  EXPECT_EQ(Get(kBusybox, Bearer(push_only)).status, 401);
  const std::string none = Token("");
  EXPECT_EQ(Get(kBusybox, Bearer(none)).status, 401);
  EXPECT_EQ(Get("/v2/", Bearer(none)).status, 200);  // a valid token, for no repository
}

TEST_F(DistributionAuthTest, BasicCredentialsOnEachRequestAreVerifiedOnceAMinute) {
  EXPECT_EQ(Get(kBusybox, {{"authorization", kAlice}}).status, 200);
  EXPECT_EQ(Verified(), 1);
  // Any user may pull any repository and the catalog.
  EXPECT_EQ(Get(kDiamond, {{"authorization", kAlice}}).status, 200);
  EXPECT_EQ(Get("/v2/_catalog", {{"authorization", kAlice}}).status, 200);
  EXPECT_EQ(Verified(), 1);  // remembered
  clock_.Advance(std::chrono::seconds(61));
  EXPECT_EQ(Get(kBusybox, {{"authorization", kAlice}}).status, 200);
  EXPECT_EQ(Verified(), 2);  // forgotten after a minute: verified again

  EXPECT_EQ(Get(kBusybox, {{"authorization", kBob}}).status, 200);
  HttpResponse wrong = Get(kBusybox, {{"authorization", kAliceWrong}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(ErrorCode(wrong), "UNAUTHORIZED");
  EXPECT_EQ(HeaderOf(wrong, "WWW-Authenticate"), Challenge("repository:library/busybox:pull"));
  EXPECT_EQ(Get(kBusybox, {{"authorization", kAliceWrong}}).status, 401);
  EXPECT_EQ(Verified(), 5);  // a wrong pair is never remembered
}

TEST_F(DistributionAuthTest, FailedCredentialsCountInTheLoginThrottle) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Get(kBusybox, {{"authorization", kAliceWrong}}).status, 401) << i;
  }
  const int verified = Verified();
  // Refused before the password is looked at, the right one too, at the token endpoint too.
  for (const std::string& target :
       std::vector<std::string>{std::string(kBusybox), std::string("/v2/token")}) {
    HttpResponse refused = Get(target, {{"authorization", kAlice}});
    EXPECT_EQ(refused.status, 429) << target;
    EXPECT_EQ(ErrorCode(refused), "TOOMANYREQUESTS");
    EXPECT_NE(ErrorMessage(refused).find("too many failed logins; try again in "),
              std::string::npos)
        << ErrorMessage(refused);
  }
  EXPECT_EQ(Verified(), verified);
  EXPECT_EQ(Get(kBusybox, {{"authorization", kBob}}).status, 200);  // another user
  clock_.Advance(std::chrono::seconds(301));
  EXPECT_EQ(Get(kBusybox, {{"authorization", kAlice}}).status, 200);
}

TEST_F(DistributionAuthTest, AnonymousServesAnyoneAndIssuesTokensWithoutCredentials) {
  options_.anonymous = true;
  for (const std::string& target : std::vector<std::string>{
           std::string("/v2/"), std::string(kBusybox), std::string(kDiamond), "/v2/_catalog"}) {
    EXPECT_EQ(Get(target, {}).status, 200) << target;
  }
  HttpResponse token = Get("/v2/token?service=wharf", {});
  EXPECT_EQ(token.status, 200);
  EXPECT_EQ(Verified(), 0);
}

TEST_F(DistributionAuthTest, WhatMayHashAPasswordTakesTheSlowLane) {
  EXPECT_EQ(dist().LaneOf(DistRequest("GET", "/v2/token?service=wharf")), HttpHandler::Lane::kSlow);
  EXPECT_EQ(dist().LaneOf(DistRequest("GET", kBusybox, {{"authorization", kAlice}})),
            HttpHandler::Lane::kSlow);
  EXPECT_EQ(dist().LaneOf(DistRequest("GET", kBusybox, Bearer(std::string(64, 'a')))),
            HttpHandler::Lane::kFast);
  EXPECT_EQ(dist().LaneOf(DistRequest("GET", kBusybox)), HttpHandler::Lane::kFast);
  EXPECT_EQ(dist().LaneOf(DistRequest("GET", "/v2/library/busybox/blobs/sha256:0")),
            HttpHandler::Lane::kFast);
}

}  // namespace
}  // namespace wharf::api
