// The catalog lister against a real docker-registry (pagination, Basic auth) and a fake one
// (a Bearer token for the catalog scope, a Link to another origin, a stalled registry).
#include "wharf/registry/catalog_list.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "wharf/base/clock.h"
#include "wharf/registry/test_registry.h"

namespace wharf::registry {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;
using testing::RegistryProcess;

constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";

// Pushes one tiny image under each of `repos`.
Result<void> PushRepos(const RegistryProcess& registry, const std::vector<std::string>& repos) {
  const std::string config = R"({"architecture":"amd64","os":"linux"})";
  const std::string manifest =
      std::string(R"({"schemaVersion":2,"mediaType":")") + kOciManifest +
      R"(","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      Digest::Of(config).str() + R"(","size":)" + std::to_string(config.size()) +
      R"(},"layers":[]})";
  for (const auto& repo : repos) {
    WHARF_RETURN_IF_ERROR(registry.PushBlob(repo, config));
    WHARF_RETURN_IF_ERROR(registry.PushManifest(repo, "latest", kOciManifest, manifest));
  }
  return {};
}

const std::vector<std::string> kRepos = {"alpha/one", "beta", "gamma/two", "library/redis",
                                         "zeta/three"};

TEST(CatalogListTest, RealRegistryEveryPageWithBasicAuth) {
  auto registry = RegistryProcess::Start({.username = "alice", .password = "s3cret"});
  ASSERT_TRUE(registry) << registry.error().ToString();
  ASSERT_TRUE(PushRepos(**registry, kRepos));

  Options options;
  options.hosts[(*registry)->host()] = {.username = "alice", .password = "s3cret"};
  CatalogLister lister(options);
  // Two names a page: three pages, joined by Link headers.
  auto names = lister.Repositories((*registry)->url(), {.page_size = 2, .timeout_s = 20});
  ASSERT_TRUE(names) << names.error().ToString();
  EXPECT_EQ(*names, kRepos);

  auto capped = lister.Repositories((*registry)->url(), {.page_size = 2, .max_names = 3});
  ASSERT_TRUE(capped) << capped.error().ToString();
  EXPECT_EQ(capped->size(), 3u);

  CatalogLister anonymous{Options{}};
  auto refused = anonymous.Repositories((*registry)->url(), {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kUnauthenticated) << refused.error().ToString();
  EXPECT_NE(refused.error().message.find((*registry)->host()), std::string::npos);
}

TEST(CatalogListTest, BearerTokenForTheCatalogScope) {
  FakeHttpServer tokens([&](const FakeRequest&) -> FakeResponse {
    return {200, {{"Content-Type", "application/json"}}, R"({"token":"t0k"})"};
  });
  FakeHttpServer registry([&](const FakeRequest& r) -> FakeResponse {
    if (r.Header("authorization") != "Bearer t0k") {
      return {401,
              {{"WWW-Authenticate", "Bearer realm=\"http://" + tokens.host() +
                                        "/token\",service=\"fake\",scope=\"registry:catalog:*\""}},
              R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})"};
    }
    if (r.target == "/v2/_catalog?n=100") {
      return {200,
              {{"Link", R"(</v2/_catalog?last=b&n=100>; rel="next")"}},
              R"({"repositories":["a","b"]})"};
    }
    if (r.target == "/v2/_catalog?last=b&n=100") return {200, {}, R"({"repositories":["c"]})"};
    return {404, {}, R"({"errors":[{"code":"NOT_FOUND","message":"no route"}]})"};
  });
  CatalogLister lister{Options{}};
  auto names = lister.Repositories("http://" + registry.host(), {});
  ASSERT_TRUE(names) << names.error().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b", "c"}));
  auto token_requests = tokens.requests();
  ASSERT_EQ(token_requests.size(), 1u);  // the second page reuses the cached token
  const std::string scope_asked = token_requests[0].target;
  EXPECT_NE(scope_asked.find("scope=registry%3Acatalog%3A%2A"), std::string::npos) << scope_asked;
}

TEST(CatalogListTest, LinkToAnotherOriginIsRefused) {
  FakeHttpServer registry([&](const FakeRequest&) -> FakeResponse {
    return {200,
            {{"Link", R"(<http://localhost:1/v2/_catalog?last=a>; rel="next")"}},
            R"({"repositories":["a"]})"};
  });
  CatalogLister lister{Options{}};
  auto names = lister.Repositories("http://" + registry.host(), {});
  ASSERT_FALSE(names);
  EXPECT_EQ(names.error().code, Code::kUnavailable);
  EXPECT_NE(names.error().message.find("bad Link header"), std::string::npos)
      << names.error().message;
}

TEST(CatalogListTest, ErrorsCarryTheStatusAndTheRegistryMessage) {
  FakeHttpServer registry([&](const FakeRequest&) -> FakeResponse {
    return {503, {}, R"({"errors":[{"code":"UNAVAILABLE","message":"down for maintenance"}]})"};
  });
  CatalogLister lister{Options{}};
  auto names = lister.Repositories("http://" + registry.host(), {});
  ASSERT_FALSE(names);
  EXPECT_EQ(names.error().code, Code::kUnavailable);
  EXPECT_NE(names.error().message.find("503"), std::string::npos) << names.error().message;
  EXPECT_NE(names.error().message.find("down for maintenance"), std::string::npos)
      << names.error().message;
}

// The time limit runs on the lister's clock: the registry lets 2 s of fake time pass in silence.
// Then a caller cancels while the registry holds its request in silence. The silence lasts
// 10 s of real time (or until released): an answer well before that came from the lister.
TEST(CatalogListTest, AStalledRegistryIsCutAtTheTimeout) {
  constexpr auto kBound = std::chrono::seconds(8);
  FakeClock clock;
  // One silence per request: the server serves one connection at a time.
  testing::StallOnFakeClock first(clock, std::chrono::seconds(2)), second(clock, {});
  std::atomic<int> held{0};
  FakeHttpServer registry([&](const FakeRequest&) -> FakeResponse {
    (++held == 1 ? first : second).Stall();
    return {200, {}, R"({"repositories":[]})"};
  });
  CatalogLister lister{Options{.clock = &clock}};
  auto start = std::chrono::steady_clock::now();
  auto names = lister.Repositories("http://" + registry.host(), {.timeout_s = 1});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(names);
  EXPECT_EQ(names.error().code, Code::kUnavailable);
  EXPECT_NE(names.error().message.find("within 1 s"), std::string::npos) << names.error().message;
  EXPECT_LT(took, kBound);
  first.Release();

  // Cancelled once the registry holds the second request, never before.
  start = std::chrono::steady_clock::now();
  auto cancelled = lister.Repositories("http://" + registry.host(),
                                       {.cancelled = [&] { return held.load() >= 2; }});
  took = std::chrono::steady_clock::now() - start;
  second.Release();
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().code, Code::kCancelled) << cancelled.error().ToString();
  EXPECT_EQ(held.load(), 2);
  EXPECT_LT(took, kBound);
}

}  // namespace
}  // namespace wharf::registry
