#include "wharf/cli/listing_tables.h"

#include <gtest/gtest.h>

namespace wharf::cli {
namespace {

// The local listing of the API documents, quirks included.
const char* kLocal = R"({"category": "local", "filter_text": "", "total_count": 3, "type": "",
  "results": [
    {"description": "Ubuntu 14.04", "downloading": false, "icon": "", "installed": true,
     "name": "ubuntu-trusty", "repository": "local", "size": ["275382272"], "tags": ["latest"],
     "type": "lxc"},
    {"description": "", "downloading": false, "icon": "", "installed": true, "is_latest": [],
     "name": "sameersbn/redmine", "repository": "local", "size": [618160542, 617775210],
     "tags": ["3.0.2", "3.0.3"], "type": "docker", "update_available": [false, true]},
    {"description": "A description much longer than forty-five characters, cut short",
     "downloading": false, "icon": "", "installed": true, "is_latest": ["latest"],
     "name": "ubuntu", "repository": "local", "size": [188304295], "tags": ["latest"],
     "type": "docker"}]})";

TEST(ListingTablesTest, LocalImagesOneRowPerTag) {
  Table t = LocalImagesTable(nlohmann::json::parse(kLocal), {});
  EXPECT_EQ(t.Render(),
            "NAME                TAG      IMAGE ID   TYPE     CREATED   SIZE    UPDATE   "
            "DESCRIPTION\n"
            "ubuntu-trusty       latest              lxc                275MB            "
            "Ubuntu 14.04\n"
            "sameersbn/redmine   3.0.2               docker             618MB\n"
            "sameersbn/redmine   3.0.3               docker             618MB   yes\n"
            "ubuntu              latest              docker             188MB            "
            "A description much longer than forty-five ch…\n");
  std::string full = LocalImagesTable(nlohmann::json::parse(kLocal), {.no_trunc = true}).Render();
  EXPECT_NE(full.find("characters, cut short\n"), std::string::npos);
}

// 2024-01-01T00:00:00Z and three days later.
constexpr int64_t kNewYear = 1704067200;
const char* kDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

nlohmann::json IdsAndDigests() {
  return {{"results",
           {{{"name", "app"},
             {"type", "docker"},
             {"tags", {"latest", kDigest}},
             {"size", {1000, 2000}},
             {"ids", {"sha256:abcdef012345ffff", "sha256:fedcba987654aaaa"}},
             {"created", {"2024-01-01T00:00:00.123456789Z", "2024-01-01T01:00:00+01:00"}},
             {"description", "An application whose description goes on and on and on"}}}}};
}

TEST(ListingTablesTest, LocalImagesShowIdsAgesAndDigests) {
  LocalTableOptions o{.now_s = kNewYear + 3 * 86400};
  EXPECT_EQ(LocalImagesTable(IdsAndDigests(), o).Render(),
            "NAME   TAG      IMAGE ID       TYPE     CREATED      SIZE   UPDATE   DESCRIPTION\n"
            "app    latest   abcdef012345   docker   3 days ago   1kB             An application "
            "whose description goes on and…\n"
            "app    <none>   fedcba987654   docker   3 days ago   2kB             An application "
            "whose description goes on and…\n");
  o.digests = true;
  std::string with = LocalImagesTable(IdsAndDigests(), o).Render();
  EXPECT_NE(with.find("NAME   TAG      DIGEST "), std::string::npos) << with;
  EXPECT_NE(with.find("app    latest   <none>  "), std::string::npos) << with;
  EXPECT_NE(with.find("app    <none>   " + std::string(kDigest) + "   fedcba987654"),
            std::string::npos)
      << with;
}

TEST(ListingTablesTest, TablesFitAWidthDescriptionFirst) {
  Table t = LocalImagesTable(IdsAndDigests(), {.now_s = kNewYear + 3 * 86400});
  std::string fitted = t.Render(80);
  for (size_t at = 0, end; (end = fitted.find('\n', at)) != std::string::npos; at = end + 1) {
    EXPECT_LE(TextWidth(std::string_view(fitted).substr(at, end - at)), 80u) << fitted;
  }
  EXPECT_NE(fitted.find("   An applica…\n"), std::string::npos) << fitted;
  EXPECT_NE(fitted.find("app    latest   abcdef012345"), std::string::npos) << fitted;
  // Too narrow for the description alone: the name gives way too, down to its header.
  Table narrow({"NAME", "DESCRIPTION"});
  narrow.ShrinkFirst({{1}, {0}});
  narrow.AddRow({"a-long-name", "a long description"});
  EXPECT_EQ(narrow.Render(20), "NAME     DESCRIPTION\na-lon…   a long des…\n");
  // A column that may be dropped goes once its header no longer fits; NAME is cut to fit.
  narrow.ShrinkFirst({{1, 0, true}, {0, 6}});
  EXPECT_EQ(narrow.Render(10), "NAME\na-long-na…\n");
  EXPECT_EQ(narrow.Render(0), "NAME          DESCRIPTION\na-long-name   a long description\n");
}

TEST(ListingTablesTest, ParsesRfc3339) {
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00Z"), kNewYear);
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00.5Z"), kNewYear);
  EXPECT_EQ(ParseRfc3339("2024-01-01T02:00:00+02:00"), kNewYear);
  EXPECT_EQ(ParseRfc3339("2023-12-31T23:00:00-01:00"), kNewYear);
  EXPECT_EQ(ParseRfc3339(""), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2024-01-01"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00 junk"), std::nullopt);
}

TEST(ListingTablesTest, EmptyOrOddListingsGiveTheHeaderOnly) {
  const std::string header =
      "NAME   TAG   IMAGE ID   TYPE   CREATED   SIZE   UPDATE   DESCRIPTION\n";
  EXPECT_EQ(LocalImagesTable(nlohmann::json::parse(R"({"results": []})"), {}).Render(), header);
  EXPECT_EQ(LocalImagesTable(nlohmann::json::parse("[1, 2]"), {}).rows(), 0u);
  // Sizes missing for a tag show as "-"; flags missing or not booleans as no update.
  auto t = LocalImagesTable(nlohmann::json::parse(R"({"results": [{"name": "x",
      "tags": ["a", "b", "c"], "size": [5], "update_available": [true, "yes"],
      "ids": [3], "created": ["yesterday"]}]})"),
                            {});
  EXPECT_EQ(t.Render(), header +
                            "x      a                                 5B     yes\n"
                            "x      b                                 -\n"
                            "x      c                                 -\n");
}

TEST(ListingTablesTest, SearchTablesDependOnTheDepot) {
  auto hub = nlohmann::json::parse(R"({"from": "dockerhub", "results": [
    {"name": "ubuntu", "description": "Ubuntu", "star_count": 10, "is_official": true},
    {"name": "lgsd/diamond", "description": "", "star_count": 0, "is_official": false}]})");
  EXPECT_EQ(SearchTable(hub, false).Render(),
            "NAME           DESCRIPTION   STARS   OFFICIAL\n"
            "ubuntu         Ubuntu        10      [OK]\n"
            "lgsd/diamond                 0\n");
  auto catalog = nlohmann::json::parse(R"({"category": "qnap", "results": [
    {"name": "debian-wheezy", "title": "Debian", "version": "7.8", "type": "lxc",
     "description": "Debian"}]})");
  EXPECT_EQ(SearchTable(catalog, false).Render(),
            "NAME            TITLE    VERSION   TYPE   DESCRIPTION\n"
            "debian-wheezy   Debian   7.8       lxc    Debian\n");
}

TEST(ListingTablesTest, TagsAndDownloads) {
  auto tags = nlohmann::json::parse(R"({"installed": ["1.0"], "tags": ["latest", "1.0"]})");
  EXPECT_EQ(TagsTable(tags).Render(), "TAG      INSTALLED\nlatest\n1.0      yes\n");
  auto jobs = nlohmann::json::parse(R"([
    {"name": "a", "tag": "latest", "type": "docker", "status": "downloading", "percent": 42,
     "bytes_done": 420000, "bytes_total": 1000000, "error": ""},
    {"name": "b", "tag": "x", "type": "docker", "status": "failed", "percent": null,
     "bytes_done": 0, "bytes_total": -1, "error": "manifest unknown"}])");
  EXPECT_EQ(DownloadsTable(jobs).Render(),
            "NAME   TAG      TYPE     STATUS        PROGRESS          ERROR\n"
            "a      latest   docker   downloading   42% (420kB/1MB)\n"
            "b      x        docker   failed        -                 manifest unknown\n");
}

TEST(ListingTablesTest, OutdatedListsTheFlaggedTags) {
  const int64_t now = 1'800'000'000;
  auto updates = nlohmann::json::parse(R"([
    {"type": "docker", "name": "team/app", "tag": "latest", "update_available": true,
     "local_digest": "sha256:0123456789abcdef0123", "remote_digest": "sha256:fedcba9876543210fe",
     "checked_at": 1799989200, "error": ""},
    {"type": "docker", "name": "team/app", "tag": "1.0", "update_available": false,
     "local_digest": "sha256:aa", "remote_digest": "sha256:aa", "checked_at": 1799989200,
     "error": ""},
    {"type": "docker", "name": "never", "tag": "x", "update_available": false,
     "local_digest": "sha256:bb", "remote_digest": "", "checked_at": null, "error": ""},
    {"type": "docker", "name": "odd", "tag": "y", "update_available": true,
     "local_digest": "", "remote_digest": "", "checked_at": null, "error": "gone"}])");
  EXPECT_EQ(OutdatedTable(updates, now).Render(),
            "NAME       TAG      CHECKED       LOCAL          REMOTE\n"
            "team/app   latest   3 hours ago   0123456789ab   fedcba987654\n"
            "odd        y        never         -              -\n");
  EXPECT_EQ(OutdatedTable(nlohmann::json::array(), now).Render(),
            "NAME   TAG   CHECKED   LOCAL   REMOTE\n");
  EXPECT_EQ(OutdatedTable(nlohmann::json::object(), now).rows(), 0u);
}

}  // namespace
}  // namespace wharf::cli
