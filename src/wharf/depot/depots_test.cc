// Depots as wharfd opens them: a broken local catalog refuses to start, a remote one is
// refreshed in the background (on a FakeClock: no test waits for the refresh period), and the
// refresh thread stops promptly.
#include "wharf/depot/depots.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "wharf/base/clock.h"
#include "wharf/registry/test_registry.h"

namespace wharf::depot {
namespace {

using registry::testing::FakeHttpServer;
using registry::testing::FakeRequest;
using registry::testing::FakeResponse;
using registry::testing::TempDir;

const std::filesystem::path kShare = std::filesystem::path(WHARF_SOURCE_DIR) / "share";

std::string CatalogWith(const std::string& name) {
  return R"({"version":1,"images":[{"name":")" + name +
         R"(","type":"docker","title":"T","version":"latest","description":"d","icon":"",
            "arch":"amd64","size":null,"inspect":""}]})";
}

bool WaitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return predicate();
}

TEST(DepotsTest, ShippedCatalogsByDefault) {
  registry::HttpGetter web{registry::Options{}};
  auto depots = Depots::Open({.share_dir = kShare}, web);
  ASSERT_TRUE(depots) << depots.error().ToString();
  EXPECT_NE((*depots)->Appcenter()->Find("lxc", "ubuntu-trusty"), nullptr);
  EXPECT_NE((*depots)->Official()->Find("docker", "tutum/mysql"), nullptr);
}

TEST(DepotsTest, MalformedLocalCatalogRefusesToOpen) {
  TempDir dir;
  const std::string path = (dir.path() / "mine.json").string();
  std::ofstream(path) << R"({"version":1,"images":[{"name":"x","type":"docker"}]})";
  registry::HttpGetter web{registry::Options{}};
  auto depots = Depots::Open({.official = path, .share_dir = kShare}, web);
  ASSERT_FALSE(depots);
  EXPECT_EQ(depots.error().code, Code::kInvalidArgument);
  EXPECT_NE(depots.error().message.find(path + ": images[0] (x): missing \"title\""),
            std::string::npos)
      << depots.error().message;
}

TEST(DepotsTest, RemoteCatalogRefreshesAndKeepsTheLastGoodCopy) {
  std::mutex mu;
  int status = 200;
  std::string body = CatalogWith("first");
  FakeHttpServer server([&](const FakeRequest&) -> FakeResponse {
    std::lock_guard lock(mu);
    return {status, {}, body};
  });
  auto set = [&](int s, std::string b) {
    std::lock_guard lock(mu);
    status = s;
    body = std::move(b);
  };
  FakeClock clock;
  registry::HttpGetter web{registry::Options{}};
  auto depots = Depots::Open({.appcenter = "http://" + server.host() + "/a.json",
                              .refresh_s = 3600,
                              .share_dir = kShare,
                              .clock = &clock},
                             web);
  ASSERT_TRUE(depots) << depots.error().ToString();
  auto name = [&] {
    auto c = (*depots)->Appcenter();
    return c->entries.empty() ? std::string() : c->entries[0].name;
  };
  EXPECT_EQ(name(), "first");          // fetched during Open
  ASSERT_TRUE(clock.AwaitWaiters(1));  // the refresh thread waits for its hour

  set(500, "down");
  clock.Advance(std::chrono::minutes(59));
  ASSERT_TRUE(clock.AwaitWaiters(1));
  EXPECT_EQ(server.requests().size(), 1u);  // not yet
  clock.Advance(std::chrono::minutes(1));
  ASSERT_TRUE(clock.AwaitWaiters(1));  // refreshed, and waiting again
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(name(), "first");

  set(200, CatalogWith("second"));
  clock.Advance(std::chrono::hours(1));
  ASSERT_TRUE(clock.AwaitWaiters(1));
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(name(), "second");
}

TEST(DepotsTest, DestructionCutsAStalledRefresh) {
  // The second fetch gets no answer until the test lets the server go.
  std::atomic<int> served{0};
  std::mutex mu;
  std::condition_variable released_cv;
  bool released = false;
  FakeHttpServer server([&](const FakeRequest&) -> FakeResponse {
    if (served++ > 0) {
      std::unique_lock lock(mu);
      released_cv.wait_for(lock, std::chrono::seconds(10), [&] { return released; });
    }
    return {200, {}, CatalogWith("only")};
  });
  FakeClock clock;
  registry::HttpGetter web{registry::Options{}};
  auto depots = Depots::Open(
      {.official = "http://" + server.host() + "/o.json", .share_dir = kShare, .clock = &clock},
      web);
  ASSERT_TRUE(depots) << depots.error().ToString();
  ASSERT_TRUE(clock.AwaitWaiters(1));
  clock.Advance(std::chrono::hours(1));
  ASSERT_TRUE(WaitFor([&] { return served.load() >= 2; }, std::chrono::seconds(5)));
  auto start = std::chrono::steady_clock::now();
  depots->reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2500));
  {
    std::lock_guard lock(mu);
    released = true;
  }
  released_cv.notify_all();
}

TEST(DepotsTest, SearchHubIsCutWhenTheCallerCancels) {
  // Docker Hub's search drips its answer (20 s, never stalling); the caller gives up once the
  // index holds the request, an end well before the time limit (10 s) is the caller's.
  FakeHttpServer index([](const FakeRequest&) {
    return FakeResponse{200, {}, std::string(100, ' '), std::string::npos, 200};
  });
  registry::HttpGetter web{registry::Options{}};
  auto depots = Depots::Open(
      {.share_dir = kShare, .index_url = "http://" + index.host(), .search_timeout_s = 10}, web);
  ASSERT_TRUE(depots) << depots.error().ToString();
  const auto start = std::chrono::steady_clock::now();
  auto found = (*depots)->SearchHub("ubuntu", 1, 25, [&] { return index.CountRequests("/") > 0; });
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code, Code::kCancelled) << found.error().ToString();
  EXPECT_NE(found.error().message.find("Docker Hub search for \"ubuntu\""), std::string::npos)
      << found.error().message;
}

}  // namespace
}  // namespace wharf::depot
