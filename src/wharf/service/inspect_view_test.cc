#include "wharf/service/inspect_view.h"

#include <gtest/gtest.h>

namespace wharf::service {
namespace {

TEST(InspectViewTest, HasEverySeedKeyAndTakesFieldsFromTheConfig) {
  const std::string config = R"({
    "architecture": "arm64", "variant": "v8", "os": "linux",
    "created": "2015-04-30T21:50:13.355542328Z", "author": "someone",
    "config": {"Cmd": ["/bin/bash"], "Env": ["A=1"], "WorkingDir": "/w", "User": "1000",
               "ExposedPorts": {"8080/tcp": {}}, "Labels": {"k": "v"}},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:aa", "sha256:bb"]}})";
  auto view =
      BuildInspect({config,
                    "sha256:07f8e8c5e66084bef8f848877857537ffe1c47edd01a93af27e7161672ad0e95",
                    {"ubuntu:latest"},
                    {"ubuntu@sha256:ff"},
                    188304295});
  ASSERT_TRUE(view) << view.error().message;
  for (const char* key : {"Architecture", "Author", "Comment", "Config", "Container",
                          "ContainerConfig", "Created", "DockerVersion", "Id", "Os", "Parent",
                          "Size", "VirtualSize", "RepoTags", "RepoDigests", "RootFS"}) {
    EXPECT_TRUE(view->contains(key)) << key;
  }
  auto& v = *view;
  EXPECT_EQ(v["Id"], "07f8e8c5e66084bef8f848877857537ffe1c47edd01a93af27e7161672ad0e95");
  EXPECT_EQ(v["Architecture"], "arm64");
  EXPECT_EQ(v["Variant"], "v8");
  EXPECT_EQ(v["Created"], "2015-04-30T21:50:13.355542328Z");
  EXPECT_EQ(v["Author"], "someone");
  EXPECT_EQ(v["Config"]["Cmd"], nlohmann::json::parse(R"(["/bin/bash"])"));
  EXPECT_EQ(v["Config"]["ExposedPorts"], nlohmann::json::parse(R"({"8080/tcp": {}})"));
  EXPECT_EQ(v["RootFS"]["Layers"], nlohmann::json::parse(R"(["sha256:aa", "sha256:bb"])"));
  EXPECT_EQ(v["Size"], 188304295);
  EXPECT_EQ(v["VirtualSize"], 188304295);
  EXPECT_TRUE(v["ContainerConfig"].is_object());
  // Docker's container-config keys the image leaves out get Docker's defaults.
  EXPECT_EQ(v["Config"]["Hostname"], "");
  EXPECT_EQ(v["Config"]["AttachStdin"], false);
  EXPECT_TRUE(v["Config"]["Entrypoint"].is_null());
  EXPECT_EQ(v["Config"]["Labels"], nlohmann::json::parse(R"({"k": "v"})"));
  EXPECT_EQ(v["ContainerConfig"]["Tty"], false);
  EXPECT_EQ(v["Parent"], "");
}

TEST(InspectViewTest, RejectsAConfigThatIsNotJson) {
  auto view = BuildInspect({"not json", "sha256:x", {}, {}, 0});
  ASSERT_FALSE(view);
  EXPECT_EQ(view.error().code, Code::kDataLoss);
}

TEST(InspectViewTest, CreatedIsWrittenAsGoWritesIt) {
  EXPECT_EQ(GoTimeString("2024-01-02T03:04:05.120000+00:00"), "2024-01-02T03:04:05.12Z");
  EXPECT_EQ(GoTimeString("2024-01-02T03:04:05.000Z"), "2024-01-02T03:04:05Z");
  EXPECT_EQ(GoTimeString("2024-01-02T03:04:05.123456789Z"), "2024-01-02T03:04:05.123456789Z");
  EXPECT_EQ(GoTimeString("2024-01-02T03:04:05-00:00"), "2024-01-02T03:04:05Z");
  EXPECT_EQ(GoTimeString("2024-01-02T03:04:05.50+02:00"), "2024-01-02T03:04:05.5+02:00");
  // Not RFC 3339 as Go reads it: unchanged.
  EXPECT_EQ(GoTimeString(""), "");
  EXPECT_EQ(GoTimeString("yesterday"), "yesterday");
  EXPECT_EQ(GoTimeString("2024-01-02 03:04:05Z"), "2024-01-02 03:04:05Z");
  EXPECT_EQ(GoTimeString("2024-01-02T03:04:05.1234567891Z"), "2024-01-02T03:04:05.1234567891Z");
  EXPECT_EQ(GoTimeString("2024-01-02T03:04:05+0200"), "2024-01-02T03:04:05+0200");
  auto view =
      BuildInspect({R"({"created": "2024-01-02T03:04:05.100000+00:00"})", "sha256:x", {}, {}, 0});
  ASSERT_TRUE(view);
  EXPECT_EQ((*view)["Created"], "2024-01-02T03:04:05.1Z");
}

}  // namespace
}  // namespace wharf::service
