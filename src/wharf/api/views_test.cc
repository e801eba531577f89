#include "wharf/api/views.h"

#include <gtest/gtest.h>

namespace wharf::api {
namespace {

using nlohmann::json;

// True if `ours` has every key of `seed` with the same JSON type, recursively (extra keys in
// `ours` are allowed; arrays compare their first elements when both have one).
::testing::AssertionResult SameShape(const json& seed, const json& ours, const std::string& at) {
  auto kind = [](const json& j) {
    if (j.is_number_integer() || j.is_number_unsigned()) return std::string("integer");
    return std::string(j.type_name());
  };
  if (kind(seed) != kind(ours)) {
    return ::testing::AssertionFailure()
           << at << ": seed has " << kind(seed) << ", ours has " << kind(ours);
  }
  if (seed.is_object()) {
    for (auto it = seed.begin(); it != seed.end(); ++it) {
      if (!ours.contains(it.key())) {
        return ::testing::AssertionFailure() << at << ": missing key " << it.key();
      }
      auto r = SameShape(it.value(), ours[it.key()], at + "." + it.key());
      if (!r) return r;
    }
  }
  if (seed.is_array() && !seed.empty() && !ours.empty()) {
    return SameShape(seed[0], ours[0], at + "[0]");
  }
  return ::testing::AssertionSuccess();
}

// From the documented local listing example.
const char* kSeedLocalDocker = R"({ "description": "", "downloading": false, "icon": "",
  "installed": true, "is_latest": [ "latest" ], "name": "ubuntu", "repository": "local",
  "size": [ 188304295 ], "tags": [ "latest" ], "type": "docker" })";
const char* kSeedLocalLxc = R"({ "description": "Ubuntu 14.04", "downloading": false,
  "icon": "repository/lxc/ubuntu-trusty/icon.png", "installed": true, "name": "ubuntu-trusty",
  "repository": "local", "size": [ "275382272" ], "tags": [ "latest" ], "type": "lxc" })";

TEST(ViewsTest, LocalDockerEntryHasTheSeedShape) {
  service::LocalImage image{"docker",
                            "sameersbn/redmine",
                            "",
                            "",
                            {"3.0.2", "3.0.3"},
                            {618160542, 617775210},
                            {false, true},
                            {"sha256:aa", "sha256:bb"},
                            {"2015-03-01T10:00:00Z", ""},
                            false};
  json ours = LocalEntryView(image);
  EXPECT_TRUE(SameShape(json::parse(kSeedLocalDocker), ours, "entry"));
  EXPECT_EQ(ours["size"], json::parse("[618160542, 617775210]"));
  EXPECT_EQ(ours["is_latest"], json::array());
  EXPECT_EQ(ours["installed"], true);
  EXPECT_EQ(ours["repository"], "local");
  EXPECT_EQ(ours["update_available"], json::parse("[false, true]"));
  EXPECT_EQ(ours["ids"], json::parse(R"(["sha256:aa", "sha256:bb"])"));
  EXPECT_EQ(ours["created"], json::parse(R"(["2015-03-01T10:00:00Z", ""])"));

  image.tags = {"latest"};
  image.sizes = {5};
  image.updates = {false};
  EXPECT_EQ(LocalEntryView(image)["is_latest"], json::parse(R"(["latest"])"));
}

TEST(ViewsTest, LocalLxcEntryHasStringSizesAndNoIsLatest) {
  service::LocalImage image{
      "lxc", "ubuntu-trusty", "Ubuntu 14.04", "icon.png", {"latest"}, {275382272}, {false}, {}, {},
      false};
  json ours = LocalEntryView(image);
  EXPECT_TRUE(SameShape(json::parse(kSeedLocalLxc), ours, "entry"));
  EXPECT_FALSE(ours.contains("is_latest"));
  EXPECT_FALSE(ours.contains("ids"));  // Docker entries only
  EXPECT_EQ(ours["size"], json::parse(R"(["275382272"])"));
}

TEST(ViewsTest, ListingEnvelopeCarriesBothDialects) {
  json seed = json::parse(R"({ "category": "local", "filter_text": "", "results": [],
    "total_count": 5, "type": "" })");
  json ours = ListingView("qnap", "x", "", json::array({json::object(), json::object()}));
  EXPECT_TRUE(SameShape(seed, ours, "listing"));
  EXPECT_EQ(ours["category"], "qnap");
  EXPECT_EQ(ours["from"], "qnap");
  EXPECT_EQ(ours["total_count"], 2);
}

TEST(ViewsTest, JobPercentIsNullUntilTheTotalIsKnown) {
  json seed =
      json::parse(R"({ "name": "lgsd/diamond", "percent": null, "status": "downloading" })");
  pull::JobView job{"docker", "lgsd/diamond", "latest", "downloading", 0, -1, ""};
  json ours = JobView(job);
  EXPECT_TRUE(SameShape(seed, ours, "job"));
  EXPECT_TRUE(ours["percent"].is_null());
  job.bytes_total = 200;
  job.bytes_done = 50;
  EXPECT_EQ(JobView(job)["percent"], 25);
  job.bytes_done = 400;
  EXPECT_EQ(JobView(job)["percent"], 100);
}

TEST(ViewsTest, ErrorsAndLogin) {
  EXPECT_EQ(ErrorView(404, "Image not found: lgsd/diamond"),
            json::parse(R"({"error": {"code": 404, "message": "Image not found: lgsd/diamond"}})"));
  EXPECT_EQ(HttpStatus(Code::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatus(Code::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatus(Code::kNotFound), 404);
  EXPECT_EQ(HttpStatus(Code::kConflict), 409);
  EXPECT_EQ(HttpStatus(Code::kTooLarge), 413);
  EXPECT_EQ(HttpStatus(Code::kUnavailable), 502);
  json login = LoginView({"id", "admin", true, 0});
  EXPECT_EQ(login["anonymous"], false);
  EXPECT_EQ(login["isAdmin"], true);
  EXPECT_EQ(login["username"], "admin");
  EXPECT_EQ(login["logintime"].get<std::string>().size(), 19u);  // YYYY-MM-DD HH:MM:SS
}

}  // namespace
}  // namespace wharf::api
