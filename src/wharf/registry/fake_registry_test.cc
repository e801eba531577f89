// The client against a small fake registry, for what docker-registry cannot show without
// signed JWTs or misbehaviour: the Bearer challenge → token → retry → cache flow, redirects
// to another host, servers that ignore Range, Link pagination, bytes that do not match their
// digest, and error documents.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "wharf/base/clock.h"
#include "wharf/base/digest.h"
#include "wharf/registry/client.h"
#include "wharf/registry/test_registry.h"

namespace wharf::registry {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

constexpr char kManifest[] = R"({"schemaVersion":2})";
constexpr char kBlob[] = "0123456789abcdefghij";
constexpr char kTamperedBlobContent[] = "what was pushed";

// How the fake registry behaves.
struct FakeConfig {
  std::string issued_token = "abc";
  std::string accepted_token = "abc";
  int expires_in = 300;
  bool access_token_field = false;  // answer {"access_token"} instead of {"token"}
  std::string token_server_wants;   // required Authorization at the token server, if any
  bool cdn_honours_range = true;
};

// A registry at 127.0.0.1 demanding "Bearer <accepted>", its token server, and a CDN at
// "localhost" (another host) that serves blobs the registry redirects to.
class FakeRegistry {
 public:
  explicit FakeRegistry(FakeConfig config = {}) : config_(std::move(config)) {}
  ~FakeRegistry() { ReleaseSlow(); }

  std::string host() const { return registry_.host(); }
  reference::Reference Ref(const std::string& tag = "latest") const {
    return reference::Reference{.domain = host(), .path = "foo", .tag = tag};
  }

  FakeHttpServer& tokens() { return tokens_; }
  FakeHttpServer& registry() { return registry_; }
  FakeHttpServer& cdn() { return cdn_; }
  // Ends the silence of the "slow" manifest (which also ends by itself after 10 s).
  void ReleaseSlow() {
    {
      std::lock_guard lock(mu_);
      slow_released_ = true;
    }
    slow_cv_.notify_all();
  }

 private:
  FakeConfig config() const {
    std::lock_guard lock(mu_);
    return config_;
  }

  static FakeResponse Json(int status, std::string body) {
    return {status, {{"Content-Type", "application/json"}}, std::move(body)};
  }

  FakeResponse Token(const FakeRequest& request) {
    FakeConfig c = config();
    if (!c.token_server_wants.empty() && request.Header("authorization") != c.token_server_wants) {
      return Json(401, R"({"details":"incorrect username or password"})");
    }
    std::string field = c.access_token_field ? "access_token" : "token";
    return Json(200, R"({")" + field + R"(":")" + c.issued_token + R"(","expires_in":)" +
                         std::to_string(c.expires_in) + "}");
  }

  FakeResponse Registry(const FakeRequest& request) {
    FakeConfig c = config();
    if (request.Header("authorization") != "Bearer " + c.accepted_token) {
      FakeResponse challenge =
          Json(401, R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})");
      challenge.headers.push_back(
          {"WWW-Authenticate",
           "Bearer realm=\"http://" + tokens_.host() +
               "/token\",service=\"fake-registry\",scope=\"repository:foo:pull\""});
      return challenge;
    }
    const std::string& t = request.target;
    const std::string blob_digest = Digest::Of(kBlob).str();
    if (t == "/v2/") return Json(200, "{}");
    if (t == "/v2/foo/manifests/latest") {
      return {200,
              {{"Content-Type", "application/vnd.oci.image.manifest.v1+json; charset=utf-8"}},
              kManifest};
    }
    if (t == "/v2/foo/manifests/" + Digest::Of("another manifest").str()) {
      return {200, {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}}, kManifest};
    }
    if (t == "/v2/foo/manifests/slow") {  // sends nothing until ReleaseSlow()
      std::unique_lock lock(mu_);
      slow_cv_.wait_for(lock, std::chrono::seconds(10), [this] { return slow_released_; });
      return Json(200, kManifest);
    }
    if (t == "/v2/foo/manifests/broken") {
      return Json(503, R"({"errors":[{"code":"UNAVAILABLE","message":"down for maintenance"}]})");
    }
    if (t == "/v2/foo/blobs/" + blob_digest) {
      return {307,
              {{"Location", "http://localhost:" + std::to_string(cdn_.port()) + "/b/" +
                                Digest::Of(kBlob).hex() + "?sig=secret"}},
              ""};
    }
    if (t == "/v2/foo/blobs/" + Digest::Of(kTamperedBlobContent).str()) {
      return {200, {}, "something else entirely"};
    }
    if (t == "/v2/foo/tags/list?n=1000") {
      return {200,
              {{"Link", R"(</v2/foo/tags/list?n=2&last=b>; rel="next")"}},
              R"({"name":"foo","tags":["a","b"]})"};
    }
    if (t == "/v2/foo/tags/list?n=2&last=b") {
      return {200,
              {{"Link", "<http://" + host() + "/v2/foo/tags/list?n=2&last=d>; rel=\"next\""}},
              R"({"name":"foo","tags":["c","d"]})"};
    }
    if (t == "/v2/foo/tags/list?n=2&last=d") return Json(200, R"({"name":"foo","tags":["e"]})");
    return Json(404, R"({"errors":[{"code":"NAME_UNKNOWN","message":"no route"}]})");
  }

  FakeResponse Cdn(const FakeRequest& request) {
    const std::string blob = kBlob;
    std::string range = request.Header("range");
    if (config().cdn_honours_range && range.starts_with("bytes=")) {
      size_t from = std::stoul(range.substr(6));
      return {206,
              {{"Content-Range", "bytes " + std::to_string(from) + "-" +
                                     std::to_string(blob.size() - 1) + "/" +
                                     std::to_string(blob.size())}},
              blob.substr(from)};
    }
    return {200, {}, blob};
  }

  mutable std::mutex mu_;
  FakeConfig config_;
  std::condition_variable slow_cv_;
  bool slow_released_ = false;
  FakeHttpServer tokens_{[this](const FakeRequest& r) { return Token(r); }};
  FakeHttpServer cdn_{[this](const FakeRequest& r) { return Cdn(r); }};
  FakeHttpServer registry_{[this](const FakeRequest& r) { return Registry(r); }};
};

std::string Collect(Client& client, const FakeRegistry& fake, int64_t offset,
                    Result<BlobFetchResult>* result) {
  std::string bytes;
  *result = client.FetchBlob(fake.Ref(), Digest::Of(kBlob), {.offset = offset},
                             [&](const char* data, size_t n) -> Result<void> {
                               bytes.append(data, n);
                               return {};
                             });
  return bytes;
}

TEST(FakeRegistryTest, BearerChallengeTokenRetryAndCache) {
  FakeRegistry fake;
  Client client(Options{});
  for (int i = 0; i < 2; ++i) {
    auto got = client.GetManifest(fake.Ref(), "latest");
    ASSERT_TRUE(got) << got.error().ToString();
    EXPECT_EQ(got->body, kManifest);
    EXPECT_EQ(got->media_type, "application/vnd.oci.image.manifest.v1+json");
    EXPECT_EQ(got->digest, Digest::Of(kManifest));
  }
  // One token for both requests: 401, retry with the token, then the cached token at once.
  EXPECT_EQ(fake.tokens().CountRequests("/token"), 1);
  EXPECT_EQ(fake.registry().CountRequests("/v2/foo/manifests/latest"), 3);
  auto token_requests = fake.tokens().requests();
  ASSERT_EQ(token_requests.size(), 1u);
  EXPECT_NE(token_requests[0].target.find("service=fake-registry"), std::string::npos);
  EXPECT_NE(token_requests[0].target.find("scope=repository%3Afoo%3Apull"), std::string::npos);
  EXPECT_EQ(token_requests[0].Header("authorization"), "");  // no credentials configured
}

TEST(FakeRegistryTest, ExpiredTokenIsFetchedAgain) {
  FakeRegistry fake({.expires_in = 60});
  FakeClock clock;
  Client client(Options{.clock = &clock});
  ASSERT_TRUE(client.GetManifest(fake.Ref(), "latest"));
  clock.Advance(std::chrono::seconds(49));  // the token's 60 s less its 10 s margin, nearly
  ASSERT_TRUE(client.GetManifest(fake.Ref(), "latest"));
  EXPECT_EQ(fake.tokens().CountRequests("/token"), 1);
  clock.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(client.GetManifest(fake.Ref(), "latest"));
  EXPECT_EQ(fake.tokens().CountRequests("/token"), 2);
}

TEST(FakeRegistryTest, AccessTokenIsReadAndCredentialsStayOffATokenServerOnAnotherPort) {
  FakeRegistry fake({.access_token_field = true});
  Options options;
  options.hosts[fake.host()] = {.username = "bob", .password = "pw"};
  Client client(options);
  auto got = client.GetManifest(fake.Ref(), "latest");
  ASSERT_TRUE(got) << got.error().ToString();
  // The token server listens on another port: the registry's credentials are not its.
  auto token_requests = fake.tokens().requests();
  ASSERT_EQ(token_requests.size(), 1u);
  EXPECT_EQ(token_requests[0].Header("authorization"), "");

  FakeRegistry wants({.token_server_wants = "Basic Ym9iOnB3"});  // "bob:pw" in base64
  Client anonymous(Options{});
  auto refused = anonymous.GetManifest(wants.Ref(), "latest");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kUnauthenticated) << refused.error().ToString();
  EXPECT_NE(refused.error().message.find("incorrect username or password"), std::string::npos)
      << refused.error().message;
}

TEST(FakeRegistryTest, RefusedTokenIsUnauthenticatedWithTheRegistryMessage) {
  FakeRegistry fake({.accepted_token = "something-else"});
  Client client(Options{});
  auto got = client.GetManifest(fake.Ref(), "latest");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kUnauthenticated) << got.error().ToString();
  EXPECT_NE(got.error().message.find("authentication required"), std::string::npos)
      << got.error().message;
}

TEST(FakeRegistryTest, RedirectToAnotherHostDropsAuthorization) {
  FakeRegistry fake;
  Client client(Options{});
  Result<BlobFetchResult> result;
  std::string bytes = Collect(client, fake, 0, &result);
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(bytes, kBlob);
  auto cdn_requests = fake.cdn().requests();
  ASSERT_EQ(cdn_requests.size(), 1u);
  EXPECT_EQ(cdn_requests[0].Header("authorization"), "");
  EXPECT_NE(cdn_requests[0].target.find("sig=secret"), std::string::npos);
  // The registry itself did get the token.
  auto registry_requests = fake.registry().requests();
  ASSERT_FALSE(registry_requests.empty());
  EXPECT_EQ(registry_requests.back().Header("authorization"), "Bearer abc");
}

TEST(FakeRegistryTest, RangeHonouredAcrossARedirect) {
  FakeRegistry fake;
  Client client(Options{});
  Result<BlobFetchResult> result;
  std::string bytes = Collect(client, fake, 5, &result);
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_TRUE(result->range_honoured);
  EXPECT_EQ(bytes, std::string(kBlob).substr(5));
}

TEST(FakeRegistryTest, IgnoredRangeDeliversNothingAndSaysSo) {
  FakeRegistry fake({.cdn_honours_range = false});
  Client client(Options{});
  Result<BlobFetchResult> result;
  std::string bytes = Collect(client, fake, 5, &result);
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_FALSE(result->range_honoured);
  EXPECT_EQ(bytes, "");
  // The caller restarts from 0.
  bytes = Collect(client, fake, 0, &result);
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_TRUE(result->range_honoured);
  EXPECT_EQ(bytes, kBlob);
}

TEST(FakeRegistryTest, TagsFollowRelativeAndAbsoluteLinks) {
  FakeRegistry fake;
  Client client(Options{});
  auto tags = client.ListTags(fake.Ref());
  ASSERT_TRUE(tags) << tags.error().ToString();
  EXPECT_EQ(*tags, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
}

TEST(FakeRegistryTest, BytesNotMatchingTheirDigestAreDataLoss) {
  FakeRegistry fake;
  Client client(Options{});
  auto blob = client.GetSmallBlob(fake.Ref(), Digest::Of(kTamperedBlobContent));
  ASSERT_FALSE(blob);
  EXPECT_EQ(blob.error().code, Code::kDataLoss) << blob.error().ToString();

  auto manifest = client.GetManifest(fake.Ref(), Digest::Of("another manifest").str());
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().code, Code::kDataLoss) << manifest.error().ToString();
}

TEST(FakeRegistryTest, ServerErrorsAreUnavailableWithTheRegistryMessage) {
  FakeRegistry fake;
  Client client(Options{.request_tries = 1});  // retries: mirror_retry_test.cc
  auto got = client.GetManifest(fake.Ref(), "broken");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kUnavailable);
  const std::string& m = got.error().message;
  EXPECT_NE(m.find("registry " + fake.host()), std::string::npos) << m;
  EXPECT_NE(m.find("503 Service Unavailable"), std::string::npos) << m;
  EXPECT_NE(m.find("UNAVAILABLE: down for maintenance"), std::string::npos) << m;
}

TEST(FakeRegistryTest, StalledTransferIsUnavailable) {
  FakeRegistry fake;
  Options options;
  options.stall_timeout_s = 1;  // libcurl's low-speed limit: whole seconds of real time
  options.request_tries = 1;    // a stall is retried like any cut transfer; here one try shows it
  Client client(options);
  ASSERT_TRUE(client.GetManifest(fake.Ref(), "latest"));  // authenticated and probed
  auto got = client.GetManifest(fake.Ref(), "slow");      // silent for 10 s unless released
  fake.ReleaseSlow();
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kUnavailable);
  EXPECT_NE(got.error().message.find("registry " + fake.host() + ": transfer stalled"),
            std::string::npos)
      << got.error().message;
}

}  // namespace
}  // namespace wharf::registry
