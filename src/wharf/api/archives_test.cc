#include "wharf/api/archives.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wharf/archive/tar_test_util.h"
#include "wharf/service/exports_test_util.h"

namespace wharf::api {
namespace {

TEST(ExportFileNameTest, ShortNameSanitisedAndTheCountOfTheOthers) {
  struct Case {
    std::vector<std::string> images;
    std::string file;
  };
  for (const Case& c : std::vector<Case>{
           {{"busybox:1.36"}, "busybox_1.36.tar"},
           {{"lgsd/diamond:latest"}, "lgsd_diamond_latest.tar"},
           {{"127.0.0.1:5000/team/app:v2"}, "127.0.0.1_5000_team_app_v2.tar"},
           {{"busybox:1.36", "lgsd/diamond:latest"}, "busybox_1.36-and-1-more.tar"},
           {{"a:1", "b:1", "c:1"}, "a_1-and-2-more.tar"},
           {{"x:\"; evil=\r\n"}, "x____evil___.tar"},
           {{}, "images.tar"},
       }) {
    EXPECT_EQ(ExportFileName(c.images), c.file);
  }
  EXPECT_EQ(ExportFileName({std::string(300, 'a') + ":1"}), std::string(120, 'a') + ".tar");
}

class ExportImagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service::PutTestImage(s_, "docker.io/library/busybox", "busybox", "1.36", "bb");
  }

  Result<Exported> Export(const std::string& target) {
    HttpRequest req;
    req.method = "GET";
    req.target = target;
    ParseTarget(target, req.path, req.params);
    RouteMatch m = MatchRoute(req.method, req.path);
    EXPECT_EQ(m.kind, RouteMatch::kFound) << target;
    return ExportImages(s_.local, m.route, req);
  }

  // The answer's body as the server sends it: its parts in order, files read with pread.
  static std::string BodyOf(const HttpResponse& answer) {
    std::string out;
    for (const auto& part : answer.parts->parts) {
      if (part.fd < 0) {
        out += part.bytes;
        continue;
      }
      std::string buf(part.length, '\0');
      EXPECT_EQ(::pread(part.fd, buf.data(), buf.size(), static_cast<off_t>(part.offset)),
                static_cast<ssize_t>(part.length));
      out += buf;
    }
    return out;
  }

  service::NoFetcher fetcher_;
  service::TestServices s_{fetcher_};
};

TEST_F(ExportImagesTest, AnswersTheArchiveAsPartsWithItsFileName) {
  for (const std::string target :
       {"/api/v1/image/docker/busybox/1.36/export", "/api/v1/image/export?image=busybox:1.36",
        "/api/v1/image/docker/library/busybox/1.36/export?format=oci"}) {
    auto out = Export(target);
    ASSERT_TRUE(out.has_value()) << target << ": " << out.error().message;
    EXPECT_EQ(out->images, std::vector<std::string>{"busybox:1.36"});
    const HttpResponse& a = out->answer;
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.content_type, "application/x-tar");
    EXPECT_EQ(a.headers,
              (Fields{{"Content-Disposition", "attachment; filename=\"busybox_1.36.tar\""}}));
    ASSERT_NE(a.parts, nullptr);
    EXPECT_NE(a.parts->owner, nullptr) << "the archive keeps its files open";
    std::string body = BodyOf(a);
    EXPECT_EQ(body.size(), a.parts->Length());
    auto files = archive::ParseTar(body);
    bool oci = target.ends_with("oci");
    EXPECT_EQ(files[0].name, oci ? "oci-layout" : "manifest.json") << target;
    EXPECT_EQ(files.size(), oci ? 8u : 5u) << target;
  }
}

TEST_F(ExportImagesTest, BadParametersAreNamed) {
  struct Case {
    std::string target;
    Code code;
    std::string mentions;
  };
  for (const Case& c : std::vector<Case>{
           {"/api/v1/image/docker/busybox/1.36/export?format=zip", Code::kInvalidArgument,
            "format"},
           {"/api/v1/image/export?format=oci", Code::kInvalidArgument, "image"},
           {"/api/v1/image/export", Code::kInvalidArgument, "image"},
           {"/api/v1/image/lxc/debian-bookworm/latest/export", Code::kInvalidArgument, "lxc"},
           {"/api/v1/image/podman/busybox/1.36/export", Code::kInvalidArgument, "image_type"},
           {"/api/v1/image/docker/busybox/9/export", Code::kNotFound, "busybox:9"},
           {"/api/v1/image/export?image=busybox:1.36&image=nope", Code::kNotFound, "nope:latest"},
           {"/api/v1/image/export?image=Bad", Code::kInvalidArgument, "Bad"},
       }) {
    auto out = Export(c.target);
    ASSERT_FALSE(out.has_value()) << c.target;
    EXPECT_EQ(out.error().code, c.code) << c.target;
    EXPECT_NE(out.error().message.find(c.mentions), std::string::npos)
        << c.target << ": " << out.error().message;
  }
}

}  // namespace
}  // namespace wharf::api
