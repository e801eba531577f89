// service::Updates over a real metadata database and blob store against a fake registry
// (updates_test_util.h): what a check finds for single manifests, multi-platform tags and
// imported images, failures, the flag's end when the local image changes, Available(), and the
// background loop on a FakeClock.
#include "wharf/service/updates.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "wharf/base/clock.h"
#include "wharf/service/updates_test_util.h"

namespace wharf::service {
namespace {

using UpdatesTest = UpdatesTestBase;

TEST_F(UpdatesTest, AnUnchangedTagIsNoUpdateAndCostsOneHead) {
  auto image = Stored("team/app", "latest", "one");
  Serve("team/app", "latest", image);
  UpdateView before = Listed("team/app");
  EXPECT_EQ(before.checked_at, 0);
  EXPECT_EQ(before.local_digest, image.manifest_digest);
  EXPECT_EQ(before.remote_digest, "");

  UpdateView view = CheckOne("team/app");
  EXPECT_EQ(view.type, "docker");
  EXPECT_FALSE(view.update_available);
  EXPECT_EQ(view.remote_digest, image.manifest_digest);
  EXPECT_EQ(view.checked_at, clock_.NowSeconds());
  EXPECT_EQ(view.error, "");
  EXPECT_EQ(upstream_.Count("HEAD", "/v2/team/app/manifests/latest"), 1);
  EXPECT_EQ(upstream_.Count("GET", "/v2/team/"), 0);
  EXPECT_TRUE(UpdateEvents().empty());
  EXPECT_FALSE(Flagged("team/app"));
}

TEST_F(UpdatesTest, AChangedManifestIsAnUpdate) {
  Stored("team/app", "latest", "one");
  const std::string moved =
      upstream_.Put("team/app", "latest", kOciManifest, ManifestJson(Other("c2"), Other("l2")));
  UpdateView view = CheckOne("team/app");
  EXPECT_TRUE(view.update_available);
  EXPECT_EQ(view.remote_digest, moved);
  EXPECT_TRUE(Listed("team/app").update_available);
  EXPECT_TRUE(Flagged("team/app"));
  auto events = UpdateEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["name"], Name("team/app"));
  EXPECT_EQ(events[0]["update_available"], true);
  EXPECT_EQ(events[0]["remote_digest"], moved);

  // The same answer again changes no flag: no second event.
  EXPECT_TRUE(CheckOne("team/app").update_available);
  EXPECT_EQ(UpdateEvents().size(), 1u);
  // A single manifest is not fetched: the HEAD decides.
  EXPECT_EQ(upstream_.Count("GET", "/v2/team/"), 0);
}

TEST_F(UpdatesTest, AMultiPlatformTagCountsOnlyThisPlatform) {
  const std::string arm = Other("arm64 one");
  // What a download of the index leaves: the index as repo digest, amd64's manifest stored.
  metadata::ImageRecord image =
      PutTestImage(services_, Name("team/multi"), Name("team/multi"), "latest", "amd64 one");
  const std::string index1 =
      upstream_.Put("team/multi", "latest", kOciIndex,
                    IndexJson({{image.manifest_digest, "amd64"}, {arm, "arm64"}}));
  image.extra = nlohmann::json{{"repo_digest", index1}}.dump();
  ASSERT_TRUE(services_.images.Put(image));
  services_.changes.Count();

  EXPECT_FALSE(CheckOne("team/multi").update_available);
  EXPECT_EQ(upstream_.Count("GET", "/v2/team/"), 0);  // the index did not move: not fetched

  const std::string index2 =
      upstream_.Put("team/multi", "latest", kOciIndex,
                    IndexJson({{image.manifest_digest, "amd64"}, {Other("arm64 two"), "arm64"}}));
  UpdateView view = CheckOne("team/multi");
  EXPECT_FALSE(view.update_available) << "only arm64 moved";
  EXPECT_EQ(view.remote_digest, index2);
  EXPECT_EQ(upstream_.Count("GET", "/v2/team/multi/manifests/" + index2), 1);
  // The same index again is judged as before, without another GET (a pull at Docker Hub).
  EXPECT_FALSE(CheckOne("team/multi").update_available);
  EXPECT_EQ(upstream_.Count("GET", "/v2/team/"), 1);

  const std::string index3 =
      upstream_.Put("team/multi", "latest", kOciIndex,
                    IndexJson({{Other("amd64 two"), "amd64"}, {Other("arm64 two"), "arm64"}}));
  view = CheckOne("team/multi");
  EXPECT_TRUE(view.update_available) << "amd64 moved";
  EXPECT_EQ(view.remote_digest, index3);
}

TEST_F(UpdatesTest, AnImportedImageIsJudgedByItsConfig) {
  // An import records no repo digest; the registry's manifest is another (wharf wrote the
  // local one over the same image) but names the same config.
  metadata::ImageRecord image = Stored("team/imported", "latest", "one", "");
  auto local = nlohmann::json::parse(ManifestOf(image));
  const std::string layer = local["layers"][0]["digest"];
  upstream_.Put("team/imported", "latest", kDockerManifest,
                ManifestJson(image.config_digest, layer, kDockerManifest));
  UpdateView view = CheckOne("team/imported");
  EXPECT_FALSE(view.update_available) << view.remote_digest;
  EXPECT_EQ(view.local_digest, image.manifest_digest);
  EXPECT_EQ(view.error, "");
  EXPECT_EQ(upstream_.Count("GET", "/v2/team/"), 1);
  EXPECT_FALSE(CheckOne("team/imported").update_available);
  EXPECT_EQ(upstream_.Count("GET", "/v2/team/"), 1) << "an unchanged remote is not fetched again";

  upstream_.Put("team/imported", "latest", kDockerManifest,
                ManifestJson(Other("another config"), layer, kDockerManifest));
  EXPECT_TRUE(CheckOne("team/imported").update_available);
}

TEST_F(UpdatesTest, AFailedCheckKeepsTheLastFlagAndRecordsTheError) {
  Stored("team/app", "latest", "one");
  const std::string moved =
      upstream_.Put("team/app", "latest", kOciManifest, ManifestJson(Other("c2"), Other("l2")));
  ASSERT_TRUE(CheckOne("team/app").update_available);
  const int64_t first = clock_.NowSeconds();

  clock_.Advance(std::chrono::seconds(30));
  upstream_.SetFailing(503);
  UpdateView view = CheckOne("team/app");
  EXPECT_TRUE(view.update_available);
  EXPECT_EQ(view.remote_digest, moved);
  EXPECT_EQ(view.checked_at, first + 30);
  EXPECT_NE(view.error.find("503"), std::string::npos) << view.error;
  EXPECT_TRUE(Flagged("team/app"));

  // Gone upstream: NotFound's message, flag kept.
  upstream_.SetFailing(0);
  upstream_.Forget("team/app", "latest");
  view = CheckOne("team/app");
  EXPECT_TRUE(view.update_available);
  EXPECT_NE(view.error.find("manifest latest"), std::string::npos) << view.error;

  // Back: the error clears.
  upstream_.Put("team/app", "latest", kOciManifest, ManifestJson(Other("c2"), Other("l2")));
  view = CheckOne("team/app");
  EXPECT_TRUE(view.update_available);
  EXPECT_EQ(view.error, "");
  EXPECT_EQ(UpdateEvents().size(), 1u);  // the flag never changed after the first check
}

TEST_F(UpdatesTest, TheFlagEndsWhenTheLocalImageChanges) {
  Stored("team/app", "latest", "one");
  const std::string moved =
      upstream_.Put("team/app", "latest", kOciManifest, ManifestJson(Other("c2"), Other("l2")));
  ASSERT_TRUE(CheckOne("team/app").update_available);
  ASSERT_TRUE(Flagged("team/app"));

  // A new download of the tag: another image, recorded with what the tag names now.
  metadata::ImageRecord fresh = Stored("team/app", "latest", "two", moved);
  UpdateView view = Listed("team/app");
  EXPECT_FALSE(view.update_available);
  EXPECT_EQ(view.local_digest, moved);
  EXPECT_FALSE(Flagged("team/app"));
  // The record still says what that check found, for the image it was made for.
  auto record = store_.Get("docker", Name("team/app"), "latest");
  ASSERT_TRUE(record && *record);
  EXPECT_TRUE((*record)->update_available);

  // A failed check now does not bring the old flag back, nor the remote digest that was
  // compared with the old image.
  upstream_.SetFailing(500);
  view = CheckOne("team/app");
  EXPECT_FALSE(view.update_available);
  EXPECT_EQ(view.local_digest, moved);
  EXPECT_EQ(view.remote_digest, "");
  EXPECT_NE(view.error, "");
  EXPECT_FALSE(Flagged("team/app"));

  // Once the registry answers, the new image is judged.
  upstream_.SetFailing(0);
  upstream_.Put("team/app", "latest", kOciManifest, ManifestOf(fresh));
  view = CheckOne("team/app");
  EXPECT_EQ(view.remote_digest, fresh.manifest_digest);
  EXPECT_FALSE(view.update_available) << "the tag names the local manifest";
}

TEST_F(UpdatesTest, AvailableFollowsChecksAndLocalChanges) {
  auto a = Stored("team/a", "latest", "a");
  auto b = Stored("team/b", "latest", "b");
  Serve("team/a", "latest", a);
  Serve("team/b", "latest", b);
  ASSERT_TRUE(updates().Check("", "", ""));
  EXPECT_TRUE(updates().Available().empty());

  upstream_.Put("team/b", "latest", kOciManifest, ManifestJson(Other("b2"), Other("l2")));
  ASSERT_TRUE(updates().Check("", "", ""));
  EXPECT_EQ(updates().Available(), (TagSet{{"docker", Name("team/b"), "latest"}}));
  EXPECT_EQ(updates().Available(), (TagSet{{"docker", Name("team/b"), "latest"}}));

  upstream_.Put("team/a", "latest", kOciManifest, ManifestJson(Other("a2"), Other("l2")));
  ASSERT_TRUE(updates().Check("", Name("team/a"), "latest"));
  EXPECT_EQ(updates().Available().size(), 2u);

  // Deleted locally: its flag goes with it.
  ASSERT_TRUE(services_.images.Delete("docker", Name("team/b"), "latest"));
  services_.changes.Count();
  EXPECT_EQ(updates().Available(), (TagSet{{"docker", Name("team/a"), "latest"}}));
  auto listed = updates().List();
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 1u);
}

TEST_F(UpdatesTest, CheckingOneImageNamesWhatIsWrong) {
  auto missing = updates().Check("", Name("team/none"), "latest");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound) << missing.error().ToString();
  auto bad = updates().Check("", "team/UPPER", "latest");  // upper case in the path
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kInvalidArgument) << bad.error().ToString();
  auto type = updates().Check("rpm", Name("team/none"), "latest");
  ASSERT_FALSE(type);
  EXPECT_EQ(type.error().code, Code::kInvalidArgument) << type.error().ToString();

  // An empty tag means latest; the other tags are left alone.
  auto latest = Stored("team/app", "latest", "one");
  auto other = Stored("team/app", "1.0", "old");
  Serve("team/app", "latest", latest);
  Serve("team/app", "1.0", other);
  ASSERT_TRUE(updates().Check("", Name("team/app"), ""));
  EXPECT_NE(Listed("team/app").checked_at, 0);
  EXPECT_EQ(Listed("team/app", "1.0").checked_at, 0);
}

// The background loop: check_interval_s from the last checks, on the fake clock.
class UpdatesLoopTest : public UpdatesTest {
 protected:
  UpdatesLoopTest() {
    options_.check_interval_s = 100;
    options_.parallel = 1;
  }
  int Heads() { return upstream_.Count("HEAD", "/v2/team/"); }
  // Moves the clock on and waits until the loop waits again.
  void Advance(int seconds) {
    clock_.Advance(std::chrono::seconds(seconds));
    ASSERT_TRUE(clock_.AwaitWaiters(1));
  }
};

TEST_F(UpdatesLoopTest, RunsAnIntervalAfterTheLastChecks) {
  auto a = Stored("team/a", "latest", "a");
  Serve("team/a", "latest", a);
  // Checked 60 s ago, before a restart: due in 40 s.
  ASSERT_TRUE(store_.Put({"docker", Name("team/a"), "latest", a.manifest_digest, a.manifest_digest,
                          false, clock_.NowSeconds() - 60, ""}));
  updates().Start();
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  Advance(39);
  EXPECT_EQ(Heads(), 0);
  Advance(1);
  EXPECT_EQ(Heads(), 1);
  EXPECT_EQ(Listed("team/a").checked_at, clock_.NowSeconds());

  // The next run an interval after that one.
  Advance(99);
  EXPECT_EQ(Heads(), 1);
  Advance(1);
  EXPECT_EQ(Heads(), 2);
  updates().Stop();
}

TEST_F(UpdatesLoopTest, AnImageNeverCheckedIsCheckedAtOnce) {
  auto a = Stored("team/a", "latest", "a");
  Serve("team/a", "latest", a);
  updates().Start();
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  Advance(1);
  EXPECT_EQ(Heads(), 1);
  EXPECT_EQ(Listed("team/a").checked_at, clock_.NowSeconds());
}

TEST_F(UpdatesLoopTest, ARunStoppedByTheRateLimitWaitsAWholeInterval) {
  for (const char* repo : {"team/a", "team/b"}) Serve(repo, "latest", Stored(repo, "latest", repo));
  upstream_.SetRateRemaining(5);
  updates().Start();
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  Advance(1);
  EXPECT_EQ(Heads(), 1) << "the run stops after the answer that said 5 pulls are left";
  EXPECT_NE(Listed("team/a").checked_at, 0);
  EXPECT_EQ(Listed("team/b").checked_at, 0);

  // team/b was never checked, yet the next run waits the interval.
  upstream_.SetRateRemaining(50);
  Advance(99);
  EXPECT_EQ(Heads(), 1);
  Advance(1);
  EXPECT_EQ(Heads(), 3);
  EXPECT_EQ(Listed("team/b").checked_at, clock_.NowSeconds());
}

TEST_F(UpdatesLoopTest, NoIntervalNoLoop) {
  options_.check_interval_s = 0;
  auto a = Stored("team/a", "latest", "a");
  Serve("team/a", "latest", a);
  updates().Start();
  EXPECT_FALSE(clock_.AwaitWaiters(1, std::chrono::milliseconds(200)));
  EXPECT_EQ(Heads(), 0);
}

}  // namespace
}  // namespace wharf::service
