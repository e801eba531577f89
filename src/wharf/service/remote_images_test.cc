// RemoteImages over a real store and SQLite against fake registries on loopback: which
// registries a user who is not an admin may reach, and remote inspect answering what a
// download would do.
#include "wharf/service/remote_images.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "wharf/depot/depots.h"
#include "wharf/registry/http_getter.h"
#include "wharf/registry/test_registry.h"
#include "wharf/service/services_test_util.h"

namespace wharf::service {
namespace {

using nlohmann::json;
using registry::testing::FakeHttpServer;
using registry::testing::FakeRequest;
using registry::testing::FakeResponse;

class NoFetcher : public pull::Fetcher {
 public:
  Result<void> Fetch(const metadata::JobRecord&, pull::JobProgress&,
                     const pull::CommitFn&) override {
    return Internal("not used");
  }
};

class RemoteImagesTest : public ::testing::Test {
 protected:
  NoFetcher fetcher_;
  TestServices s_{fetcher_};
};

TEST_F(RemoteImagesTest, UsersReachOnlyDockerHubAndConfiguredRegistries) {
  RegistryReach reach{.any = false,
                      .configured = [](const std::string& host) { return host == "reg.example"; }};
  RemoteImages remote(s_.client, s_.local, oci::Platform{"linux", "amd64", ""}, reach);
  for (const std::string name :
       {"ubuntu", "library/ubuntu", "docker.io/lgsd/diamond", "index.docker.io/a/b",
        "reg.example/team/app", "REG.example/team/app", "Bad Name!"}) {
    EXPECT_TRUE(remote.AdmitUser(name)) << name;
  }
  for (const std::string name : {"127.0.0.1:5000/app", "reg.example:5000/app", "other.example/a",
                                 "localhost/app", "LOCALDOMAIN/app"}) {
    auto refused = remote.AdmitUser(name);
    ASSERT_FALSE(refused) << name;
    EXPECT_EQ(refused.error().code, Code::kPermissionDenied);
    const std::string host = name.substr(0, name.find('/'));
    EXPECT_EQ(refused.error().message,
              "registry " + host +
                  " is not Docker Hub, a configured registry or a catalog entry's; only admins "
                  "may reach it ([security] user_registries = \"configured\")");
  }
  // "any": every host.
  RemoteImages open(s_.client, s_.local, oci::Platform{"linux", "amd64", ""});
  EXPECT_TRUE(open.AdmitUser("127.0.0.1:5000/app"));
}

TEST_F(RemoteImagesTest, UsersReachTheRegistriesOfCatalogEntries) {
  const std::filesystem::path dir = s_.root / "catalogs";
  std::filesystem::create_directories(dir);
  const json entry = {{"name", "cat.example:5000/team/app"},
                      {"type", "docker"},
                      {"title", "App"},
                      {"version", "1.0"},
                      {"description", "An app from a private registry."},
                      {"icon", "https://cat.example/app.png"},
                      {"icon_local", "app.svg"},
                      {"arch", "amd64"},
                      {"size", nullptr},
                      {"inspect", ""}};
  std::ofstream(dir / "appcenter.json") << json{{"version", 1}, {"images", {entry}}}.dump();
  std::ofstream(dir / "official.json") << json{{"version", 1}, {"images", json::array()}}.dump();
  registry::HttpGetter web(registry::Options{});
  auto depots = depot::Depots::Open({.appcenter = (dir / "appcenter.json").string(),
                                     .official = (dir / "official.json").string(),
                                     .share_dir = dir},
                                    web);
  ASSERT_TRUE(depots) << depots.error().ToString();
  RemoteImages remote(s_.client, s_.local, oci::Platform{"linux", "amd64", ""},
                      RegistryReach{.any = false, .depots = depots->get()});
  EXPECT_TRUE(remote.AdmitUser("cat.example:5000/team/other"));
  EXPECT_FALSE(remote.AdmitUser("cat.example/team/app"));
}

// One image manifest under "latest", its config and no blobs else.
struct OneManifestRegistry {
  std::string manifest;
  std::string config;
  FakeHttpServer server{[this](const FakeRequest& r) -> FakeResponse {
    if (r.target == "/v2/") return {200, {}, "{}"};
    if (r.target == "/v2/app/manifests/latest") {
      return {200, {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}}, manifest};
    }
    if (r.target == "/v2/app/blobs/" + Digest::Of(config).str()) return {200, {}, config};
    return {404, {}, R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]})"};
  }};

  OneManifestRegistry(const std::string& config_type, const json& layers,
                      const std::string& config_body)
      : config(config_body) {
    manifest = json{
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
        {"config",
         {{"mediaType", config_type},
          {"digest", Digest::Of(config).str()},
          {"size", config.size()}}},
        {"layers",
         layers}}.dump();
  }
  std::string Name() const { return server.host() + "/app"; }
};

json Layer(const std::string& media_type) {
  return json{{"mediaType", media_type}, {"digest", Digest::Of("layer").str()}, {"size", 5}};
}

TEST_F(RemoteImagesTest, InspectRefusesWhatADownloadRefuses) {
  const std::string image_config =
      R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
  OneManifestRegistry helm(
      "application/vnd.cncf.helm.config.v1+json",
      json::array({Layer("application/vnd.cncf.helm.chart.content.v1.tar+gzip")}), "{}");
  auto chart = s_.remote.Inspect(helm.Name(), "latest");
  ASSERT_FALSE(chart);
  EXPECT_EQ(chart.error().code, Code::kInvalidArgument);
  EXPECT_EQ(chart.error().message, helm.Name() +
                                       ":latest is not a container image (config media type "
                                       "application/vnd.cncf.helm.config.v1+json)");

  OneManifestRegistry foreign(
      "application/vnd.docker.container.image.v1+json",
      json::array({Layer("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")}),
      image_config);
  auto windows = s_.remote.Inspect(foreign.Name(), "latest");
  ASSERT_FALSE(windows);
  EXPECT_EQ(windows.error().code, Code::kInvalidArgument);
  EXPECT_NE(windows.error().message.find(":latest has a non-distributable layer"),
            std::string::npos)
      << windows.error().message;

  // One layer, a config listing none: the download's DataLoss message, as a 502.
  OneManifestRegistry mismatch("application/vnd.oci.image.config.v1+json",
                               json::array({Layer("application/vnd.oci.image.layer.v1.tar")}),
                               image_config);
  auto broken = s_.remote.Inspect(mismatch.Name(), "latest");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, Code::kUnavailable);
  EXPECT_EQ(broken.error().message, "the manifest has 1 layers but the config lists 0 diff_ids");

  OneManifestRegistry fine("application/vnd.oci.image.config.v1+json", json::array(), image_config);
  auto inspected = s_.remote.Inspect(fine.Name(), "latest");
  ASSERT_TRUE(inspected) << inspected.error().ToString();
  EXPECT_EQ((*inspected)["Architecture"], "amd64");
}

}  // namespace
}  // namespace wharf::service
