#include "wharf/api/router.h"

#include <gtest/gtest.h>

namespace wharf::api {
namespace {

TEST(RouterTest, RecognisesEverySeedRequest) {
  struct Case {
    const char* method;
    const char* path;
    RouteId id;
    const char* source;
    const char* type;
    const char* name;
    const char* tag;
  } cases[] = {
      {"GET", "/api/v1/image/", RouteId::kList, "", "", "", ""},
      {"GET", "/api/v1/image", RouteId::kList, "", "", "", ""},
      {"GET", "/api/v1/image/downloadstatus", RouteId::kDownloadStatus, "", "", "", ""},
      {"POST", "/api/v1/image/import", RouteId::kImport, "", "", "", ""},
      {"GET", "/api/v1/image/updates", RouteId::kUpdates, "", "", "", ""},
      {"POST", "/api/v1/image/updates/check", RouteId::kUpdateCheck, "", "", "", ""},
      {"GET", "/api/v1/users", RouteId::kUsers, "", "", "", ""},
      {"POST", "/api/v1/users", RouteId::kUserAdd, "", "", "", ""},
      {"DELETE", "/api/v1/users/bob", RouteId::kUserRemove, "", "", "bob", ""},
      {"PUT", "/api/v1/users/bob/password", RouteId::kUserPassword, "", "", "bob", ""},
      {"GET", "/api/v1/system/df", RouteId::kDiskUsage, "", "", "", ""},
      {"GET", "/api/v1/image/docker/ubuntu/latest/inspect", RouteId::kInspect, "", "docker",
       "ubuntu", "latest"},
      {"GET", "/api/v1/image/docker/lgsd/diamond/latest/inspect", RouteId::kInspect, "", "docker",
       "lgsd/diamond", "latest"},
      {"GET", "/api/v1/image/docker/qnap.dorowu.com/qnap/builder/1.0/inspect", RouteId::kInspect,
       "", "docker", "qnap.dorowu.com/qnap/builder", "1.0"},
      {"GET", "/api/v1/image/docker/redis/latest/remote_inspect", RouteId::kRemoteInspect, "",
       "docker", "redis", "latest"},
      {"GET", "/api/v1/image/docker/lgsd/diamond/1.0/engine", RouteId::kEngineState, "", "docker",
       "lgsd/diamond", "1.0"},
      {"GET", "/api/v1/image/docker/busybox/1.36/export", RouteId::kExport, "", "docker", "busybox",
       "1.36"},
      {"GET", "/api/v1/image/docker/ghcr.io/x/export/t/export", RouteId::kExport, "", "docker",
       "ghcr.io/x/export", "t"},
      {"GET", "/api/v1/image/export", RouteId::kExportMany, "", "", "", ""},
      {"GET", "/api/v1/image/dockerhub/docker/1/redis/tags", RouteId::kTags, "dockerhub", "docker",
       "redis", ""},
      {"POST", "/api/v1/image/dockerhub/docker/lgsd/diamond/latest/download", RouteId::kDownload,
       "dockerhub", "docker", "lgsd/diamond", "latest"},
      {"POST", "/api/v1/image/qnap/lxc/ubuntu-trusty/latest/download", RouteId::kDownload, "qnap",
       "lxc", "ubuntu-trusty", "latest"},
      {"POST", "/api/v1/image/dockerhub/docker/127.0.0.1:5000/a/b/1.0/download", RouteId::kDownload,
       "dockerhub", "docker", "127.0.0.1:5000/a/b", "1.0"},
      {"DELETE", "/api/v1/image/local/docker/lgsd/diamond", RouteId::kDelete, "local", "docker",
       "lgsd/diamond", ""},
      {"DELETE", "/api/v1/image/local/docker/lgsd/diamond:1.0", RouteId::kDelete, "local", "docker",
       "lgsd/diamond", "1.0"},
      {"DELETE", "/api/v1/image/local/docker/127.0.0.1:5000/a", RouteId::kDelete, "local", "docker",
       "127.0.0.1:5000/a", ""},
      {"DELETE", "/api/v1/image/local/docker/team/download", RouteId::kDelete, "local", "docker",
       "team/download", ""},
      {"DELETE", "/api/v1/image/local/lxc/ubuntu-trusty", RouteId::kDelete, "local", "lxc",
       "ubuntu-trusty", ""},
      {"DELETE", "/api/v1/image/downloadstatus/docker/lgsd/diamond/latest", RouteId::kCancel, "",
       "docker", "lgsd/diamond", "latest"},
      {"GET", "/api/v1/events", RouteId::kEvents, "", "", "", ""},
      {"GET", "/metrics", RouteId::kMetrics, "", "", "", ""},
      {"GET", "/", RouteId::kStatic, "", "", "/", ""},
      {"GET", "/web/app.js", RouteId::kStatic, "", "", "/web/app.js", ""},
  };
  for (const auto& c : cases) {
    RouteMatch m = MatchRoute(c.method, c.path);
    ASSERT_EQ(m.kind, RouteMatch::kFound) << c.method << " " << c.path;
    EXPECT_EQ(m.route.id, c.id) << c.path;
    EXPECT_EQ(m.route.source, c.source) << c.path;
    EXPECT_EQ(m.route.type, c.type) << c.path;
    EXPECT_EQ(m.route.name, c.name) << c.path;
    EXPECT_EQ(m.route.tag, c.tag) << c.path;
  }
  EXPECT_EQ(MatchRoute("GET", "/api/v1/image/dockerhub/docker/1/redis/tags").route.official, "1");
}

TEST(RouterTest, UnknownPathsAndWrongMethods) {
  EXPECT_EQ(MatchRoute("GET", "/nope").kind, RouteMatch::kNoRoute);
  EXPECT_EQ(MatchRoute("GET", "/api/v1/imagex").kind, RouteMatch::kNoRoute);
  EXPECT_EQ(MatchRoute("GET", "/api/v1/image/a").kind, RouteMatch::kNoRoute);
  RouteMatch m = MatchRoute("GET", "/api/v1/login");
  EXPECT_EQ(m.kind, RouteMatch::kWrongMethod);
  EXPECT_EQ(m.allow, "POST");
  EXPECT_EQ(MatchRoute("DELETE", "/api/v1/image/").kind, RouteMatch::kWrongMethod);
  EXPECT_EQ(MatchRoute("POST", "/api/v1/image/local/docker/x").kind, RouteMatch::kWrongMethod);
  EXPECT_EQ(MatchRoute("HEAD", "/healthz").kind, RouteMatch::kFound);
}

TEST(RouterTest, OnlyLoginAndHealthArePublic) {
  EXPECT_TRUE(IsPublic(RouteId::kLogin));
  EXPECT_TRUE(IsPublic(RouteId::kHealth));
  EXPECT_TRUE(IsPublic(RouteId::kMetrics));
  EXPECT_TRUE(IsPublic(RouteId::kStatic));
  for (RouteId id : {RouteId::kEvents,       RouteId::kCancel,         RouteId::kLoginRefresh,
                     RouteId::kLogout,       RouteId::kList,           RouteId::kDownloadStatus,
                     RouteId::kInspect,      RouteId::kRemoteInspect,  RouteId::kTags,
                     RouteId::kDownload,     RouteId::kDelete,         RouteId::kEngineState,
                     RouteId::kImport,       RouteId::kUpdates,        RouteId::kUpdateCheck,
                     RouteId::kUsers,        RouteId::kUserAdd,        RouteId::kUserRemove,
                     RouteId::kUserPassword, RouteId::kDiskUsage,      RouteId::kRegistries,
                     RouteId::kRegistryPut,  RouteId::kRegistryRemove, RouteId::kRegistryTest,
                     RouteId::kMirrors,      RouteId::kMirrorsPut}) {
    EXPECT_FALSE(IsPublic(id));
  }
}

TEST(RouterTest, RegistriesRoutesTakeTheHostAsOneSegment) {
  struct {
    const char* method;
    const char* path;
    RouteId id;
    const char* name;
  } cases[] = {
      {"GET", "/api/v1/registries", RouteId::kRegistries, ""},
      {"PUT", "/api/v1/registries/127.0.0.1:5000", RouteId::kRegistryPut, "127.0.0.1:5000"},
      {"DELETE", "/api/v1/registries/[::1]:5000", RouteId::kRegistryRemove, "[::1]:5000"},
      {"POST", "/api/v1/registries/docker.io/test", RouteId::kRegistryTest, "docker.io"},
      {"GET", "/api/v1/registries/docker.io/mirrors", RouteId::kMirrors, ""},
      {"PUT", "/api/v1/registries/docker.io/mirrors", RouteId::kMirrorsPut, ""},
  };
  for (const auto& c : cases) {
    RouteMatch m = MatchRoute(c.method, c.path);
    ASSERT_EQ(m.kind, RouteMatch::kFound) << c.method << " " << c.path;
    EXPECT_EQ(m.route.id, c.id) << c.path;
    EXPECT_EQ(m.route.name, c.name) << c.path;
  }
  EXPECT_EQ(MatchRoute("GET", "/api/v1/registries/r.example").kind, RouteMatch::kWrongMethod);
  EXPECT_EQ(MatchRoute("GET", "/api/v1/registries/r.example/mirrors").kind, RouteMatch::kNoRoute);
  EXPECT_EQ(MatchRoute("POST", "/api/v1/registries/a/b/test").kind, RouteMatch::kNoRoute);
}

TEST(RouterTest, ExportRoutesAreReadsBehindTheSession) {
  for (const char* path : {"/api/v1/image/export", "/api/v1/image/docker/busybox/1.36/export"}) {
    RouteMatch get = MatchRoute("GET", path);
    ASSERT_EQ(get.kind, RouteMatch::kFound) << path;
    EXPECT_FALSE(IsPublic(get.route.id)) << path;
    EXPECT_EQ(MatchRoute("HEAD", path).kind, RouteMatch::kFound) << path;
    RouteMatch post = MatchRoute("POST", path);
    EXPECT_EQ(post.kind, RouteMatch::kWrongMethod) << path;
    EXPECT_EQ(post.allow, "GET") << path;
  }
  // Three segments are no export of an image: NAME and TAG both need one.
  EXPECT_EQ(MatchRoute("GET", "/api/v1/image/docker/busybox/export").kind,
            RouteMatch::kWrongMethod);
}

}  // namespace
}  // namespace wharf::api
