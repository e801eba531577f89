// A catalog source over a file and over HTTP from a loopback server: conditional fetches,
// and the last good copy surviving a server that breaks.
#include "wharf/depot/catalog_source.h"

#include <gtest/gtest.h>

#include <fstream>
#include <mutex>

#include "wharf/registry/test_registry.h"

namespace wharf::depot {
namespace {

using registry::testing::FakeHttpServer;
using registry::testing::FakeRequest;
using registry::testing::FakeResponse;
using registry::testing::TempDir;

std::string CatalogWith(const std::string& name) {
  return R"({"version":1,"images":[{"name":")" + name +
         R"(","type":"docker","title":"T","version":"latest","description":"d","icon":"",
            "arch":"amd64","location":"https://registry.hub.docker.com/_/x/"}]})";
}

// A catalog server whose answer the test changes; honours If-None-Match.
class CatalogServer {
 public:
  void Set(int status, std::string body, std::string etag) {
    std::lock_guard lock(mu_);
    status_ = status;
    body_ = std::move(body);
    etag_ = std::move(etag);
  }
  std::string url() const { return "http://" + server_.host() + "/catalog.json"; }
  std::vector<FakeRequest> requests() const { return server_.requests(); }

 private:
  FakeResponse Serve(const FakeRequest& r) {
    std::lock_guard lock(mu_);
    if (status_ == 200 && !etag_.empty() && r.Header("if-none-match") == etag_) {
      return {304, {{"ETag", etag_}}, ""};
    }
    FakeResponse out{status_, {}, body_};
    if (!etag_.empty()) out.headers.push_back({"ETag", etag_});
    out.headers.push_back({"Last-Modified", "Tue, 02 Jan 2024 10:00:00 GMT"});
    return out;
  }

  std::mutex mu_;
  int status_ = 200;
  std::string body_;
  std::string etag_;
  FakeHttpServer server_{[this](const FakeRequest& r) { return Serve(r); }};
};

std::string FirstName(const CatalogSource& source) {
  auto c = source.Current();
  return c->entries.empty() ? "" : c->entries[0].name;
}

TEST(CatalogSourceTest, LocalFileLoadsOrNamesTheFileAndTheProblem) {
  TempDir dir;
  registry::HttpGetter web{registry::Options{}};
  const std::string path = (dir.path() / "official.json").string();
  std::ofstream(path) << CatalogWith("nginx");
  CatalogSource good(path, web);
  EXPECT_FALSE(good.remote());
  ASSERT_TRUE(good.Refresh());
  EXPECT_EQ(FirstName(good), "nginx");

  std::ofstream(path) << R"({"version":1,"images":[{"name":"nginx"}]})";
  CatalogSource bad(path, web);
  auto loaded = bad.Refresh();
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, Code::kInvalidArgument);
  EXPECT_NE(loaded.error().message.find(path + ": images[0] (nginx): missing \"type\""),
            std::string::npos)
      << loaded.error().message;
  EXPECT_TRUE(bad.Current()->entries.empty());

  CatalogSource missing((dir.path() / "nope.json").string(), web);
  auto absent = missing.Refresh();
  ASSERT_FALSE(absent);
  EXPECT_NE(absent.error().message.find("nope.json"), std::string::npos);
}

TEST(CatalogSourceTest, RemoteConditionalFetchAndLastGoodCopy) {
  CatalogServer server;
  registry::HttpGetter web{registry::Options{}};
  CatalogSource source(server.url(), web);
  ASSERT_TRUE(source.remote());

  server.Set(200, CatalogWith("first"), "\"v1\"");
  auto taken = source.Refresh();
  ASSERT_TRUE(taken) << taken.error().ToString();
  EXPECT_TRUE(*taken);
  EXPECT_EQ(FirstName(source), "first");
  EXPECT_EQ(server.requests().back().Header("if-none-match"), "");

  // Unchanged: a 304, the copy stays, and the validators were sent.
  auto same = source.Refresh();
  ASSERT_TRUE(same) << same.error().ToString();
  EXPECT_FALSE(*same);
  EXPECT_EQ(source.not_modified_count(), 1);
  EXPECT_EQ(server.requests().back().Header("if-none-match"), "\"v1\"");
  EXPECT_EQ(server.requests().back().Header("if-modified-since"), "Tue, 02 Jan 2024 10:00:00 GMT");

  // Broken in two ways: the last good copy stays, and the error says why.
  server.Set(500, "catalog backend down", "");
  auto failed = source.Refresh();
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Code::kUnavailable);
  EXPECT_NE(failed.error().message.find("500"), std::string::npos) << failed.error().message;
  EXPECT_NE(failed.error().message.find("catalog backend down"), std::string::npos);
  EXPECT_EQ(FirstName(source), "first");

  server.Set(200, "{not json", "\"v2\"");
  auto invalid = source.Refresh();
  ASSERT_FALSE(invalid);
  EXPECT_NE(invalid.error().message.find(server.url() + ": not valid JSON"), std::string::npos)
      << invalid.error().message;
  EXPECT_EQ(FirstName(source), "first");

  // Fixed: the new copy replaces the old one.
  server.Set(200, CatalogWith("second"), "\"v3\"");
  auto fixed = source.Refresh();
  ASSERT_TRUE(fixed) << fixed.error().ToString();
  EXPECT_TRUE(*fixed);
  EXPECT_EQ(FirstName(source), "second");
}

TEST(CatalogSourceTest, UnreachableServerLeavesTheDepotEmpty) {
  registry::HttpGetter web{registry::Options{}};
  const int port = registry::testing::FreeLoopbackPort();
  CatalogSource source("http://127.0.0.1:" + std::to_string(port) + "/c.json", web);
  auto fetched = source.Refresh();
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code, Code::kUnavailable);
  EXPECT_NE(fetched.error().message.find("connection refused"), std::string::npos)
      << fetched.error().message;
  EXPECT_TRUE(source.Current()->entries.empty());
}

}  // namespace
}  // namespace wharf::depot
