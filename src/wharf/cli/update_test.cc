#include "wharf/cli/update.h"

#include <gtest/gtest.h>

namespace wharf::cli {
namespace {

// An updates list as GET /api/v1/image/updates answers it.
const char* kUpdates = R"([
  {"type": "docker", "name": "nginx", "tag": "1.25", "update_available": true,
   "local_digest": "sha256:a1", "remote_digest": "sha256:b1", "checked_at": 1000, "error": ""},
  {"type": "docker", "name": "nginx", "tag": "latest", "update_available": false,
   "local_digest": "sha256:a2", "remote_digest": "sha256:a2", "checked_at": 1000, "error": ""},
  {"type": "docker", "name": "127.0.0.1:5000/team/app", "tag": "v2", "update_available": true,
   "local_digest": "sha256:a3", "remote_digest": "sha256:b3", "checked_at": 900, "error": ""},
  {"type": "docker", "name": "lgsd/diamond", "tag": "latest", "update_available": false,
   "local_digest": "sha256:a4", "remote_digest": "", "checked_at": null,
   "error": "registry down"}])";

std::vector<std::string> Refs(const UpdatePlan& plan) {
  std::vector<std::string> refs;
  for (const auto& t : plan.targets) refs.push_back(t.name + ":" + t.tag);
  return refs;
}

TEST(PlanUpdatesTest, AllIsEveryFlaggedTag) {
  auto plan = PlanUpdates(nlohmann::json::parse(kUpdates), {}, true);
  EXPECT_EQ(Refs(plan), (std::vector<std::string>{"nginx:1.25", "127.0.0.1:5000/team/app:v2"}));
  EXPECT_TRUE(plan.failures.empty());
  const UpdateTarget& t = plan.targets[1];
  EXPECT_EQ(t.type, "docker");
  EXPECT_TRUE(t.available);
  EXPECT_EQ(t.checked_at, 900);
  EXPECT_TRUE(PlanUpdates(nlohmann::json::object(), {}, true).targets.empty());
}

TEST(PlanUpdatesTest, NamesPickTagsInAnyDockerFormOnce) {
  auto list = nlohmann::json::parse(kUpdates);
  // NAME alone is each of its tags, flagged or not; the long forms of a Docker Hub name and a
  // tag named twice give it once.
  auto plan = PlanUpdates(
      list, {"docker.io/library/nginx", "nginx:latest", "127.0.0.1:5000/team/app:v2"}, false);
  EXPECT_EQ(Refs(plan),
            (std::vector<std::string>{"nginx:1.25", "nginx:latest", "127.0.0.1:5000/team/app:v2"}));
  EXPECT_TRUE(plan.failures.empty());
  plan = PlanUpdates(list, {"docker.io/lgsd/diamond:latest"}, false);
  ASSERT_EQ(plan.targets.size(), 1u);
  EXPECT_FALSE(plan.targets[0].available);
  EXPECT_EQ(plan.targets[0].checked_at, std::nullopt);
  EXPECT_EQ(plan.targets[0].error, "registry down");
}

TEST(PlanUpdatesTest, WhatNamesNoTagIsAFailureAndTheRestGoesOn) {
  auto plan = PlanUpdates(nlohmann::json::parse(kUpdates),
                          {"nginx:1.24", "absent", "nginx@sha256:00", "nginx:1.25"}, false);
  EXPECT_EQ(Refs(plan), (std::vector<std::string>{"nginx:1.25"}));
  ASSERT_EQ(plan.failures.size(), 3u);
  EXPECT_EQ(plan.failures[0].code, Code::kNotFound);
  EXPECT_EQ(plan.failures[0].message, "Image not found: nginx:1.24");
  EXPECT_EQ(plan.failures[1].message, "Image not found: absent");
  EXPECT_EQ(plan.failures[2].code, Code::kInvalidArgument);
}

TEST(SkipReasonTest, SaysWhenTheTagWasChecked) {
  UpdateTarget checked{"docker", "nginx", "latest", false, 1000, ""};
  EXPECT_EQ(SkipReason(checked, 1000 + 3 * 3600), "no update available (checked 3 hours ago)");
  EXPECT_EQ(SkipReason(checked, 1000 + 3600), "no update available (checked about an hour ago)");
  UpdateTarget never{"docker", "nginx", "latest", false, std::nullopt, ""};
  EXPECT_EQ(SkipReason(never, 5000), "never checked for an update (--check checks it now)");
}

}  // namespace
}  // namespace wharf::cli
