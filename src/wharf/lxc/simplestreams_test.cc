#include "wharf/lxc/simplestreams.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace wharf::lxc {
namespace {

using nlohmann::json;

const std::string kSha1(64, '1');
const std::string kSha2(64, '2');

json Item(const std::string& ftype, const std::string& path, const std::string& sha, int64_t size) {
  return {{"ftype", ftype}, {"path", path}, {"sha256", sha}, {"size", size}};
}

json Version(const std::string& dir, const std::string& sha = kSha1, int64_t size = 100) {
  return {{"items",
           {{"lxd.tar.xz", Item("lxd.tar.xz", dir + "lxd.tar.xz", kSha2, 10)},
            {"root.tar.xz", Item("root.tar.xz", dir + "rootfs.tar.xz", sha, size)}}}};
}

json Products() {
  json products = {
      {"debian:bookworm:amd64:default",
       {{"os", "Debian"},
        {"release", "bookworm"},
        {"arch", "amd64"},
        {"variant", "default"},
        {"versions",
         {{"20240101_05:24", Version("images/debian/bookworm/amd64/default/20240101_05:24/")},
          {"20240102_05:24", Version("images/debian/bookworm/amd64/default/20240102_05:24/")},
          {"not-a-build", Version("images/debian/bookworm/amd64/default/x/")}}}}},
      // Same id shape as the query but other fields: never matched by id.
      {"debian:bullseye:amd64:default",
       {{"os", "Debian"},
        {"release", "trixie"},
        {"arch", "amd64"},
        {"variant", "default"},
        {"versions", {{"20250101_00:00", Version("images/debian/trixie/")}}}}},
      {"alpine:3.20:arm64:default",
       {{"os", "Alpine"},
        {"release", "3.20"},
        {"arch", "aarch64"},
        {"variant", "default"},
        {"versions", {{"20240301_00:00", Version("images/alpine/3.20/arm64/")}}}}},
  };
  return {{"format", "products:1.0"}, {"products", products}};
}

TEST(SimplestreamsTest, IndexNamesTheImageDownloadsFiles) {
  json index = {{"format", "index:1.0"},
                {"index",
                 {{"images", {{"datatype", "image-downloads"}, {"path", "streams/v1/images.json"}}},
                  {"other", {{"datatype", "content-download"}, {"path", "streams/v1/x.json"}}}}}};
  auto paths = ParseStreamsIndex(index.dump());
  ASSERT_TRUE(paths) << paths.error().message;
  EXPECT_EQ(*paths, std::vector<std::string>{"streams/v1/images.json"});
}

TEST(SimplestreamsTest, BadIndexes) {
  struct Case {
    std::string text;
    Code code;
  } cases[] = {
      {"not json", Code::kInvalidArgument},
      {"[]", Code::kInvalidArgument},
      {R"({"format":"index:1.0"})", Code::kInvalidArgument},
      {R"({"index":{}})", Code::kNotFound},
      {R"({"index":{"i":{"datatype":"image-downloads","path":"../images.json"}}})",
       Code::kInvalidArgument},
      {R"({"index":{"i":{"datatype":"image-downloads","path":"/streams/v1/images.json"}}})",
       Code::kInvalidArgument},
  };
  for (const auto& c : cases) {
    auto paths = ParseStreamsIndex(c.text);
    ASSERT_FALSE(paths) << c.text;
    EXPECT_EQ(paths.error().code, c.code) << c.text << ": " << paths.error().message;
  }
}

TEST(SimplestreamsTest, FindsTheNewestBuildByFields) {
  auto build =
      FindSimplestreamsBuild(Products().dump(), {"debian", "bookworm", "amd64", "default"});
  ASSERT_TRUE(build) << build.error().message;
  EXPECT_EQ(build->serial, "20240102_05:24");
  EXPECT_EQ(build->rootfs.path,
            "images/debian/bookworm/amd64/default/20240102_05:24/rootfs.tar.xz");
  EXPECT_EQ(build->rootfs.sha256, kSha1);
  EXPECT_EQ(build->rootfs.size, 100);
  EXPECT_EQ(build->dir, "images/debian/bookworm/amd64/default/20240102_05:24/");
}

TEST(SimplestreamsTest, MatchesOnFieldsNotIds) {
  struct Case {
    ImageQuery query;
    std::string want_serial;  // empty = NotFound
  } cases[] = {
      {{"DEBIAN", "bookworm", "amd64", "default"}, "20240102_05:24"},
      {{"debian", "bookworm", "x86_64", "default"}, "20240102_05:24"},
      {{"debian", "bookworm", "amd64", "default", "20240101_05:24"}, "20240101_05:24"},
      {{"debian", "bookworm", "amd64", "default", "not-a-build"}, ""},
      {{"debian", "bookworm", "amd64", "default", "20990101_00:00"}, ""},
      {{"debian", "bullseye", "amd64", "default"}, ""},  // only the product id says bullseye
      {{"debian", "trixie", "amd64", "default"}, "20250101_00:00"},
      {{"alpine", "3.20", "arm64", "default"}, "20240301_00:00"},
      {{"debian", "bookworm", "arm64", "default"}, ""},
      {{"debian", "bookworm", "amd64", "cloud"}, ""},
  };
  for (const auto& c : cases) {
    auto build = FindSimplestreamsBuild(Products().dump(), c.query);
    if (c.want_serial.empty()) {
      ASSERT_FALSE(build) << c.query.Describe();
      EXPECT_EQ(build.error().code, Code::kNotFound) << build.error().message;
    } else {
      ASSERT_TRUE(build) << c.query.Describe() << ": " << build.error().message;
      EXPECT_EQ(build->serial, c.want_serial);
    }
  }
}

TEST(SimplestreamsTest, TheNewestBuildWithARootfsWins) {
  json doc = Products();
  doc["products"]["debian:bookworm:amd64:default"]["versions"]["20240103_05:24"] = {
      {"items", {{"disk-kvm.img", Item("disk-kvm.img", "images/x/disk.qcow2", kSha2, 5)}}}};
  auto build = FindSimplestreamsBuild(doc.dump(), {"debian", "bookworm", "amd64", "default"});
  ASSERT_TRUE(build) << build.error().message;
  EXPECT_EQ(build->serial, "20240102_05:24");
}

TEST(SimplestreamsTest, RejectsBadItems) {
  struct Case {
    json item;
    std::string mentions;
  } cases[] = {
      {Item("root.tar.xz", "images/../../etc/shadow", kSha1, 1), "unsafe"},
      {Item("root.tar.xz", "/etc/shadow", kSha1, 1), "unsafe"},
      {Item("root.tar.xz", "images/a/rootfs.tar.xz", "abc", 1), "sha256"},
      {Item("root.tar.xz", "images/a/rootfs.tar.xz", kSha1, 0), "size"},
      {{{"ftype", "root.tar.xz"}, {"path", "images/a/rootfs.tar.xz"}, {"sha256", kSha1}}, "size"},
  };
  for (const auto& c : cases) {
    json doc = Products();
    doc["products"]["debian:bookworm:amd64:default"]["versions"]["20240109_00:00"] = {
        {"items", {{"root.tar.xz", c.item}}}};
    auto build = FindSimplestreamsBuild(doc.dump(), {"debian", "bookworm", "amd64", "default"});
    ASSERT_FALSE(build) << c.item.dump();
    EXPECT_EQ(build.error().code, Code::kInvalidArgument);
    EXPECT_NE(build.error().message.find(c.mentions), std::string::npos) << build.error().message;
  }
}

TEST(SimplestreamsTest, MalformedProducts) {
  for (const char* text : {"{", "[]", R"({"products": []})"}) {
    auto build = FindSimplestreamsBuild(text, {"debian", "bookworm", "amd64", "default"});
    ASSERT_FALSE(build) << text;
    EXPECT_EQ(build.error().code, Code::kInvalidArgument) << text;
  }
}

}  // namespace
}  // namespace wharf::lxc

namespace wharf::lxc {
namespace {

json Product(const std::string& release, const json& versions) {
  return {{"os", "Debian"}, {"release", release}, {"arch", "amd64"}, {"versions", versions}};
}

// Servers that leave "variant" out: the id names it, and a newer "test" build never passes
// for the default one; an id without a variant part matches no variant at all.
TEST(SimplestreamsTest, ProductsWithoutVariantMatchTheVariantTheirIdNames) {
  json products = {
      {"debian:trixie:amd64:default",
       Product("trixie", {{"20240101_00:00", Version("images/trixie/default/1/", kSha1)}})},
      {"debian:trixie:amd64:test",
       Product("trixie", {{"20240201_00:00", Version("images/trixie/test/2/", kSha2)}})},
      {"debian:sid:amd64", Product("sid", {{"20240101_00:00", Version("images/sid/")}})},
  };
  const std::string file = json{{"products", products}}.dump();
  auto def = FindSimplestreamsBuild(file, {"debian", "trixie", "amd64", "default", ""});
  ASSERT_TRUE(def) << def.error().message;
  EXPECT_EQ(def->serial, "20240101_00:00");
  EXPECT_EQ(def->rootfs.sha256, kSha1);
  auto test = FindSimplestreamsBuild(file, {"debian", "trixie", "amd64", "test", ""});
  ASSERT_TRUE(test) << test.error().message;
  EXPECT_EQ(test->serial, "20240201_00:00");
  auto sid = FindSimplestreamsBuild(file, {"debian", "sid", "amd64", "default", ""});
  ASSERT_FALSE(sid);
  EXPECT_EQ(sid.error().code, Code::kNotFound);
}

TEST(SimplestreamsTest, IncusOnlyBuildsAreNamed) {
  json versions = {
      {"20240101_00:00",
       {{"items",
         {{"incus.tar.xz", Item("incus.tar.xz", "images/x/incus.tar.xz", kSha2, 10)},
          {"root.squashfs", Item("squashfs", "images/x/root.squashfs", kSha1, 99)}}}}}};
  json products = {{"debian:trixie:amd64:default", Product("trixie", versions)}};
  auto build = FindSimplestreamsBuild(json{{"products", products}}.dump(),
                                      {"debian", "trixie", "amd64", "default", ""});
  ASSERT_FALSE(build);
  EXPECT_EQ(build.error().code, Code::kNotFound);
  EXPECT_NE(build.error().message.find("an Incus/LXD-only simplestreams server"), std::string::npos)
      << build.error().message;
}

}  // namespace
}  // namespace wharf::lxc
