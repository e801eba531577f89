// Docker Hub search: parsing the v1 answer, paging a registry's repositories, and the search
// against loopback servers playing the index and a registry without a search API.
#include "wharf/depot/hub_search.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "wharf/base/clock.h"
#include "wharf/registry/test_registry.h"

namespace wharf::depot {
namespace {

using registry::testing::FakeHttpServer;
using registry::testing::FakeRequest;
using registry::testing::FakeResponse;

TEST(ParseHubSearchTest, DockerHubAnswer) {
  auto page = ParseHubSearch(
      R"({"num_pages":3,"num_results":53,"page":2,"page_size":25,"query":"dorowu","results":[
          {"name":"dorowu/ubuntu-desktop-lxde-vnc","description":"Ubuntu with NoVNC",
           "star_count":12,"is_official":false,"is_trusted":true,"is_automated":false},
          {"name":"ubuntu","description":null,"star_count":9000,"is_official":true,
           "is_automated":false},
          {"repo_name":"team/app","short_description":"newer field names","is_automated":true},
          {"description":"no name: skipped"}]})",
      2, 25, "index");
  ASSERT_TRUE(page) << page.error().ToString();
  EXPECT_EQ(page->num_pages, 3);
  EXPECT_EQ(page->num_results, 53);
  EXPECT_EQ(page->page, 2);
  EXPECT_EQ(page->page_size, 25);
  ASSERT_EQ(page->results.size(), 3u);
  EXPECT_EQ(page->results[0].name, "dorowu/ubuntu-desktop-lxde-vnc");
  EXPECT_EQ(page->results[0].star_count, 12);
  EXPECT_TRUE(page->results[0].is_trusted);
  EXPECT_FALSE(page->results[0].is_official);
  EXPECT_EQ(page->results[1].description, "");
  EXPECT_TRUE(page->results[1].is_official);
  EXPECT_EQ(page->results[2].name, "team/app");
  EXPECT_EQ(page->results[2].description, "newer field names");
  EXPECT_TRUE(page->results[2].is_trusted);  // is_automated

  // Totals missing: derived from what is there.
  auto bare = ParseHubSearch(R"({"results":[{"name":"a"},{"name":"b"}]})", 1, 1, "index");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->num_results, 2);
  EXPECT_EQ(bare->num_pages, 2);
  EXPECT_EQ(bare->page_size, 1);

  for (const char* bad : {"", "[]", "{}", R"({"results":{}})", "<html>"}) {
    auto r = ParseHubSearch(bad, 1, 25, "Docker Hub search at http://x");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Code::kUnavailable);
    EXPECT_NE(r.error().message.find("http://x"), std::string::npos);
  }
}

TEST(PageOfRepositoriesTest, FiltersCaseInsensitivelyAndPages) {
  const std::vector<std::string> names = {"library/Alpha", "library/beta", "team/alphabet",
                                          "team/gamma", "zalpha"};
  HubPage all = PageOfRepositories(names, "", 1, 100);
  EXPECT_EQ(all.num_results, 5);
  EXPECT_EQ(all.num_pages, 1);
  ASSERT_EQ(all.results.size(), 5u);
  EXPECT_EQ(all.results[0].name, "Alpha");
  EXPECT_TRUE(all.results[0].is_official);
  EXPECT_EQ(all.results[2].name, "team/alphabet");
  EXPECT_FALSE(all.results[2].is_official);
  EXPECT_FALSE(all.results[4].is_official);  // no namespace is not library/
  EXPECT_EQ(all.results[4].star_count, 0);

  HubPage second = PageOfRepositories(names, "ALPHA", 2, 2);
  EXPECT_EQ(second.num_results, 3);
  EXPECT_EQ(second.num_pages, 2);
  EXPECT_EQ(second.page, 2);
  EXPECT_EQ(second.page_size, 2);
  ASSERT_EQ(second.results.size(), 1u);
  EXPECT_EQ(second.results[0].name, "zalpha");

  HubPage beyond = PageOfRepositories(names, "alpha", 9, 2);
  EXPECT_TRUE(beyond.results.empty());
  EXPECT_EQ(beyond.num_results, 3);

  HubPage none = PageOfRepositories(names, "nothing", 1, 25);
  EXPECT_EQ(none.num_results, 0);
  EXPECT_EQ(none.num_pages, 0);
}

// An index and a registry whose clients (and time limits) run on a FakeClock. An index or a
// registry told to stall lets `stall`'s 3 s of fake time pass in silence.
struct Servers {
  FakeClock clock;
  registry::testing::StallOnFakeClock stall{clock, std::chrono::seconds(3)};
  std::atomic<int> index_status{200};
  std::atomic<bool> index_stalls{false};
  std::atomic<bool> registry_stalls{false};
  FakeHttpServer index{[this](const FakeRequest& r) -> FakeResponse {
    if (index_stalls) stall.Stall();
    if (index_status != 200) {
      return {index_status, {}, R"({"errors":[{"code":"X","message":"index says no"}]})"};
    }
    return {200,
            {},
            R"({"num_results":1,"num_pages":1,"page":1,"page_size":25,"results":[
                        {"name":"q=)" +
                r.target + R"(","star_count":1}]})"};
  }};
  FakeHttpServer registry{[this](const FakeRequest& r) -> FakeResponse {
    if (registry_stalls) stall.Stall();
    if (r.target == "/v2/_catalog?n=100") {
      return {200,
              {{"Link", R"(</v2/_catalog?n=100&last=b>; rel="next")"}},
              R"({"repositories":["library/a","team/b"]})"};
    }
    return {200, {}, R"({"repositories":["team/c"]})"};
  }};
  registry::HttpGetter web{registry::Options{.clock = &clock}};
  registry::CatalogLister lister{registry::Options{.clock = &clock}};
  HubSearch search{{"http://" + index.host() + "/", "http://" + registry.host(), 2}, web, lister};
};

TEST(HubSearchTest, PassesQueryPageAndSizeThrough) {
  Servers s;
  auto page = s.search.Search("dorowu desktop", 3, 7);
  ASSERT_TRUE(page) << page.error().ToString();
  ASSERT_EQ(page->results.size(), 1u);
  EXPECT_EQ(page->results[0].name, "q=/v1/search?q=dorowu%20desktop&n=7&page=3");
  EXPECT_EQ(s.registry.requests().size(), 0u);
}

TEST(HubSearchTest, FallsBackToTheCatalogWhenTheIndexHasNoSearch) {
  for (int status : {404, 405, 501}) {
    Servers s;
    s.index_status = status;
    auto page = s.search.Search("", 1, 2);
    ASSERT_TRUE(page) << status << ": " << page.error().ToString();
    EXPECT_EQ(page->num_results, 3) << status;
    EXPECT_EQ(page->num_pages, 2);
    ASSERT_EQ(page->results.size(), 2u);
    EXPECT_EQ(page->results[0].name, "a");
    EXPECT_TRUE(page->results[0].is_official);
    EXPECT_EQ(page->results[1].name, "team/b");
    EXPECT_EQ(s.registry.requests().size(), 2u);  // both _catalog pages
  }
}

TEST(HubSearchTest, UpstreamFailuresAreUnavailableWithTheirMessage) {
  Servers s;
  s.index_status = 503;
  auto failed = s.search.Search("x", 1, 25);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Code::kUnavailable);
  EXPECT_NE(failed.error().message.find("503"), std::string::npos) << failed.error().message;
  EXPECT_NE(failed.error().message.find("index says no"), std::string::npos);

  s.index_status = 200;
  s.index_stalls = true;
  auto slow = s.search.Search("x", 1, 25);
  s.stall.Release();
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().code, Code::kUnavailable);
  EXPECT_NE(slow.error().message.find("within 2 s"), std::string::npos) << slow.error().message;
}

// The fallback gets what the search left of its time limit, counted on the HttpGetter's clock:
// the index takes 1.5 s of the 2 s (fake time) to say it has no search, so the catalog has 1 s.
TEST(HubSearchTest, TheFallbackGetsWhatIsLeftOfTheTimeLimit) {
  Servers s;
  FakeHttpServer index([&](const FakeRequest&) -> FakeResponse {
    s.clock.Advance(std::chrono::milliseconds(1500));
    return {404, {}, "no search here"};
  });
  HubSearch search{{"http://" + index.host(), "http://" + s.registry.host(), 2}, s.web, s.lister};
  s.registry_stalls = true;
  auto slow = search.Search("x", 1, 25);
  s.stall.Release();
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().code, Code::kUnavailable);
  EXPECT_NE(slow.error().message.find("did not arrive within 1 s"), std::string::npos)
      << slow.error().message;
}

// 100 bytes, one every 200 ms: 20 s without ever stalling.
FakeResponse Drip() { return {200, {}, std::string(100, ' '), std::string::npos, 200}; }

// A hook that turns true once `server` holds a request for `prefix` (and drips its answer).
std::function<bool()> CancelOnceHeld(const FakeHttpServer& server, const std::string& prefix) {
  return [&server, prefix] { return server.CountRequests(prefix) > 0; };
}

TEST(HubSearchTest, TheCallerCancelsASearchAndItsFallbackWhileTheyDrip) {
  std::atomic<int> index_status{200};
  FakeHttpServer index([&](const FakeRequest&) -> FakeResponse {
    if (index_status != 200) return {index_status, {}, "no search here"};
    return Drip();
  });
  FakeHttpServer registry([](const FakeRequest&) { return Drip(); });
  registry::HttpGetter web{registry::Options{}};
  registry::CatalogLister lister{registry::Options{}};
  // A time limit (10 s) that the drips (20 s) would reach, but the caller first: an end well
  // before it is the caller's.
  HubSearch search{{"http://" + index.host(), "http://" + registry.host(), 10}, web, lister};
  constexpr auto kBound = std::chrono::seconds(8);

  auto start = std::chrono::steady_clock::now();
  auto searched = search.Search("x y", 1, 25, CancelOnceHeld(index, "/"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, kBound);
  ASSERT_FALSE(searched);
  EXPECT_EQ(searched.error().code, Code::kCancelled) << searched.error().ToString();
  EXPECT_EQ(
      searched.error().message,
      "cancelled while fetching the Docker Hub search for \"x y\" from server " + index.host());

  index_status = 404;
  start = std::chrono::steady_clock::now();
  auto listed = search.Search("x", 1, 25, CancelOnceHeld(registry, "/v2/_catalog"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, kBound);
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().code, Code::kCancelled) << listed.error().ToString();
  EXPECT_EQ(listed.error().message,
            "cancelled while fetching the repository catalog from registry " + registry.host() +
                " (the fallback of a search for \"x\")");
  EXPECT_EQ(index.CountRequests("/"), 2);  // the search, then the one answered 404
  EXPECT_EQ(registry.CountRequests("/v2/_catalog"), 1);
}

}  // namespace
}  // namespace wharf::depot
