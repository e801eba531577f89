// UpdateWebhook: the body it posts, and an Updates that tells it of each run's new flags (one
// POST per run that turned flags on, none for a run without), against a fake receiver; a dead
// or silent receiver holds up no check.
#include "wharf/service/updates_webhook.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "wharf/service/updates_test_util.h"

namespace wharf::service {
namespace {

using registry::testing::FakeHttpServer;
using registry::testing::FakeRequest;
using registry::testing::FakeResponse;

TEST(UpdateWebhookTest, TheBodyListsTheUpdates) {
  std::vector<UpdateView> fresh = {
      {"docker", "team/app", "latest", true, "sha256:1", "sha256:2", 5, ""},
      {"lxc", "debian-bookworm", "latest", true, "20240101_05:24", "20240102_05:24", 6, ""}};
  EXPECT_EQ(nlohmann::json::parse(UpdateWebhook::Body(fresh)),
            nlohmann::json::parse(R"({"updates": [
                {"type": "docker", "name": "team/app", "tag": "latest",
                 "local_digest": "sha256:1", "remote_digest": "sha256:2"},
                {"type": "lxc", "name": "debian-bookworm", "tag": "latest",
                 "local_digest": "20240101_05:24", "remote_digest": "20240102_05:24"}]})"));
}

class WebhookTest : public UpdatesTestBase {
 protected:
  ~WebhookTest() override { updates_.reset(); }  // before the webhook it tells

  // The webhook posting to `url`, wired into the Updates.
  void Hook(const std::string& url) {
    webhook_.emplace(WebhookOptions{.url = url, .timeout_s = 5}, poster_);
    options_.webhook = &*webhook_;
  }
  std::vector<nlohmann::json> Posted() {
    EXPECT_TRUE(webhook_->Drain(10000));
    std::vector<nlohmann::json> out;
    for (const FakeRequest& request : receiver_.requests()) {
      EXPECT_EQ(request.method, "POST");
      EXPECT_EQ(request.target, "/hook");
      out.push_back(nlohmann::json::parse(request.body));
    }
    return out;
  }
  std::string Moved(const std::string& repo) {
    return upstream_.Put(repo, "latest", kOciManifest,
                         ManifestJson(Other(repo + " config"), Other(repo + " layer")));
  }

  FakeHttpServer receiver_{[](const FakeRequest&) { return FakeResponse{204, {}, ""}; }};
  FakeClock poster_clock_;
  registry::HttpPoster poster_{registry::Options{.clock = &poster_clock_}};
  std::optional<UpdateWebhook> webhook_;
};

TEST_F(WebhookTest, OnePostPerRunWithNewUpdates) {
  Hook("http://" + receiver_.host() + "/hook");
  for (const char* repo : {"team/a", "team/b", "team/c"}) {
    Serve(repo, "latest", Stored(repo, "latest", repo));
  }
  ASSERT_TRUE(updates().Check("", "", ""));
  EXPECT_TRUE(Posted().empty()) << "nothing moved";

  const std::string a = Moved("team/a"), b = Moved("team/b");
  ASSERT_TRUE(updates().Check("", "", ""));
  auto posted = Posted();
  ASSERT_EQ(posted.size(), 1u);
  ASSERT_EQ(posted[0]["updates"].size(), 2u);
  EXPECT_EQ(posted[0]["updates"][0],
            (nlohmann::json{{"type", "docker"},
                            {"name", Name("team/a")},
                            {"tag", "latest"},
                            {"local_digest", Listed("team/a").local_digest},
                            {"remote_digest", a}}));
  EXPECT_EQ(posted[0]["updates"][1]["remote_digest"], b);

  // Flags that stay on are not news; one that turns on is, alone.
  ASSERT_TRUE(updates().Check("", "", ""));
  EXPECT_EQ(Posted().size(), 1u);
  const std::string c = Moved("team/c");
  ASSERT_TRUE(updates().Check("", "", ""));
  posted = Posted();
  ASSERT_EQ(posted.size(), 2u);
  ASSERT_EQ(posted[1]["updates"].size(), 1u);
  EXPECT_EQ(posted[1]["updates"][0]["remote_digest"], c);
}

TEST_F(WebhookTest, ADeadReceiverHoldsUpNoCheck) {
  Hook("http://127.0.0.1:" + std::to_string(registry::testing::FreeLoopbackPort()) + "/hook");
  Stored("team/a", "latest", "a");
  Moved("team/a");
  auto checked = updates().Check("", "", "");
  ASSERT_TRUE(checked) << checked.error().ToString();
  EXPECT_TRUE(ViewOf(*checked, "team/a", "latest").update_available);
  EXPECT_TRUE(webhook_->Drain(10000));  // tried, failed, logged
}

TEST_F(WebhookTest, ASilentReceiverIsCutWhenTheWebhookGoes) {
  std::atomic<bool> release{false};
  FakeHttpServer silent([&](const FakeRequest&) {
    for (int i = 0; i < 1000 && !release; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return FakeResponse{204, {}, ""};
  });
  Hook("http://" + silent.host() + "/hook");
  Stored("team/a", "latest", "a");
  Moved("team/a");
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(updates().Check("", "", ""));
  EXPECT_FALSE(webhook_->Drain(100)) << "the POST is still waiting for its answer";
  updates().Stop();
  updates_.reset();
  webhook_.reset();  // cuts it
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  release = true;
}

TEST_F(WebhookTest, NoWebhookNoPost) {
  Stored("team/a", "latest", "a");
  Moved("team/a");
  ASSERT_TRUE(updates().Check("", "", ""));
  EXPECT_TRUE(receiver_.requests().empty());
}

}  // namespace
}  // namespace wharf::service
