#include "wharf/depot/catalog.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "wharf/base/file_util.h"

namespace wharf::depot {
namespace {

const std::filesystem::path kShare = std::filesystem::path(WHARF_SOURCE_DIR) / "share";

TEST(CatalogTest, ShippedCatalogsParseAndHoldTheSeedEntries) {
  auto appcenter = ParseCatalog(*ReadFile(kShare / "catalog/appcenter.json"), "appcenter.json");
  ASSERT_TRUE(appcenter) << appcenter.error().message;
  for (const char* lxc : {"debian-wheezy", "fedora-heisenbug", "ubuntu-trusty"}) {
    const CatalogEntry* e = appcenter->Find("lxc", lxc);
    ASSERT_NE(e, nullptr) << lxc;
    EXPECT_TRUE(e->source.has_value());
    EXPECT_EQ(e->inspect, "{}");
    EXPECT_TRUE(e->size.has_value());
  }
  for (const char* docker :
       {"aostanin/deluge", "chrisabrams/docker-minecraft-with-bukkit", "colinhuang/wine-with-novnc",
        "dorowu/ubuntu-desktop-lxde-vnc", "jenkins"}) {
    const CatalogEntry* e = appcenter->Find("docker", docker);
    ASSERT_NE(e, nullptr) << docker;
    EXPECT_FALSE(e->size.has_value());
    EXPECT_TRUE(e->has_size);
    EXPECT_EQ(e->inspect, "");
  }
  EXPECT_EQ(appcenter->Find("lxc", "ubuntu-trusty")->size, "275382272");
  EXPECT_NE(appcenter->Find("lxc", "debian-bookworm"), nullptr);

  auto official = ParseCatalog(*ReadFile(kShare / "catalog/official.json"), "official.json");
  ASSERT_TRUE(official) << official.error().message;
  for (const char* name :
       {"centos", "mongo", "nginx", "node", "redis", "tutum/mysql", "tutum/wordpress", "ubuntu"}) {
    const CatalogEntry* e = official->Find("docker", name);
    ASSERT_NE(e, nullptr) << name;
    EXPECT_TRUE(e->location.has_value());
  }
  EXPECT_EQ(official->Find("docker", "centos")->version, "7");
  // Every local icon exists.
  for (const auto* c : {&*appcenter, &*official}) {
    for (const auto& e : c->entries) {
      EXPECT_TRUE(std::filesystem::exists(kShare / "icons" / e.icon_local)) << e.icon_local;
    }
  }
}

TEST(CatalogTest, RejectsBrokenCatalogsNamingTheProblem) {
  const std::string ok_lxc =
      R"({"name":"x","type":"lxc","title":"X","version":"1","description":"d","icon":"",
          "arch":"amd64","size":"1","inspect":"{}","source":{"protocol":"simplestreams",
          "server":"https://s","os":"debian","release":"r","arch":"amd64","variant":"default"}})";
  auto wrap = [](const std::string& entries) {
    return R"({"version":1,"images":[)" + entries + "]}";
  };
  ASSERT_TRUE(ParseCatalog(wrap(ok_lxc), "c.json"));
  struct Case {
    std::string text;
    const char* expect;
  } cases[] = {
      {"{", "c.json: not valid JSON"},
      {"[]", "must be a JSON object"},
      {R"({"version":2,"images":[]})", "\"version\" must be 1"},
      {R"({"version":1})", "\"images\" must be an array"},
      {wrap(R"({"type":"docker"})"), "images[0]: missing \"name\""},
      {wrap(R"({"name":"Bad","type":"docker","title":"","version":"latest","description":"",
                "icon":"","arch":"amd64"})"),
       "images[0] (Bad): "},
      {wrap(R"({"name":"n","type":"vm","title":"","version":"1","description":"","icon":"",
                "arch":"a"})"),
       "\"type\" must be lxc or docker"},
      {wrap(R"({"name":"n","type":"docker","title":"","version":7,"description":"","icon":"",
                "arch":"a"})"),
       "\"version\" must be a string"},
      {wrap(R"({"name":"n","type":"docker","title":"","version":"1","description":"","icon":"",
                "arch":"a","size":5})"),
       "\"size\" must be a string or null"},
      {wrap(R"({"name":"n","type":"lxc","title":"","version":"1","description":"","icon":"",
                "arch":"a"})"),
       "lxc entries need a \"source\""},
      {wrap(R"({"name":"n","type":"lxc","title":"","version":"1","description":"","icon":"",
                "arch":"a","source":{"protocol":"ftp"}})"),
       "unknown protocol \"ftp\""},
      {wrap(R"({"name":"n","type":"lxc","title":"","version":"1","description":"","icon":"",
                "arch":"a","source":{"protocol":"url","rootfs":"http://x","rootfs_sha256":"ab"}})"),
       "\"rootfs_sha256\" must be 64 lowercase hex digits"},
      {wrap(R"({"name":"n","type":"docker","title":"","version":"1","description":"","icon":"",
                "arch":"a","icon_local":"../x.svg"})"),
       "\"icon_local\" must be a plain file name"},
      {wrap(ok_lxc + "," + ok_lxc), "images[1] (x): duplicate name"},
  };
  for (const auto& c : cases) {
    auto r = ParseCatalog(c.text, "c.json");
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos)
        << c.text << " → " << r.error().message;
  }
}

}  // namespace
}  // namespace wharf::depot
