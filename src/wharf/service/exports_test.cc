#include "wharf/service/exports.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wharf/archive/tar_test_util.h"
#include "wharf/service/exports_test_util.h"

namespace wharf::service {
namespace {

class ExportsTest : public ::testing::Test {
 protected:
  metadata::ImageRecord PutImage(const std::string& name, const std::string& display,
                                 const std::string& tag, const std::string& seed) {
    return PutTestImage(s_, name, display, tag, seed);
  }
  // manifest.json of the archive of `images`.
  nlohmann::json ManifestJson(const std::vector<std::string>& images,
                              std::vector<std::string>* names = nullptr) {
    auto out = OpenExport(s_.local, images, archive::ArchiveFormat::kDocker);
    EXPECT_TRUE(out.has_value()) << out.error().message;
    if (!out) return nullptr;
    if (names != nullptr) *names = out->images;
    std::string tar, buf(1 << 16, '\0');
    for (auto n = out->archive->Read(buf.data(), buf.size()); n && *n > 0;
         n = out->archive->Read(buf.data(), buf.size())) {
      tar.append(buf.data(), *n);
    }
    EXPECT_EQ(static_cast<int64_t>(tar.size()), out->archive->size());
    auto files = archive::ParseTar(tar);
    EXPECT_EQ(files[0].name, "manifest.json");
    return nlohmann::json::parse(files[0].content);
  }
  Status ErrorOf(const std::vector<std::string>& images) {
    auto out = OpenExport(s_.local, images, archive::ArchiveFormat::kOci);
    EXPECT_FALSE(out.has_value());
    return out ? Status{} : out.error();
  }

  NoFetcher fetcher_;
  TestServices s_{fetcher_};
};

TEST_F(ExportsTest, ImagesAreFoundByTheNamesUsersWrite) {
  PutImage("docker.io/library/busybox", "busybox", "1.36", "bb");
  PutImage("docker.io/library/busybox", "busybox", "latest", "bb-latest");
  PutImage("docker.io/lgsd/diamond", "lgsd/diamond", "latest", "diamond");
  PutImage("ghcr.io/x/y", "ghcr.io/x/y", "t", "y");
  struct Case {
    std::string asked, shown, full;
  };
  for (const Case& c : std::vector<Case>{
           {"busybox:1.36", "busybox:1.36", "docker.io/library/busybox:1.36"},
           {"busybox", "busybox:latest", "docker.io/library/busybox:latest"},
           {"library/busybox:1.36", "busybox:1.36", "docker.io/library/busybox:1.36"},
           {"docker.io/library/busybox:1.36", "busybox:1.36", "docker.io/library/busybox:1.36"},
           {"lgsd/diamond:latest", "lgsd/diamond:latest", "docker.io/lgsd/diamond:latest"},
           {"ghcr.io/x/y:t", "ghcr.io/x/y:t", "ghcr.io/x/y:t"},
       }) {
    std::vector<std::string> shown;
    auto m = ManifestJson({c.asked}, &shown);
    EXPECT_EQ(shown, std::vector<std::string>{c.shown}) << c.asked;
    ASSERT_EQ(m.size(), 1u) << c.asked;
    EXPECT_EQ(m[0]["RepoTags"], nlohmann::json({c.full})) << c.asked;
  }
}

TEST_F(ExportsTest, AnImageAskedByTwoNamesIsCarriedOnceUnderBoth) {
  PutImage("docker.io/library/busybox", "busybox", "1.36", "bb");
  PutImage("docker.io/library/busybox", "busybox", "latest", "bb");  // the same image
  PutImage("docker.io/team/app", "team/app", "1", "app");
  std::vector<std::string> shown;
  auto m = ManifestJson({"busybox:1.36", "team/app:1", "busybox:latest", "busybox:1.36"}, &shown);
  EXPECT_EQ(shown, (std::vector<std::string>{"busybox:1.36", "team/app:1", "busybox:latest"}));
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0]["RepoTags"],
            nlohmann::json({"docker.io/library/busybox:1.36", "docker.io/library/busybox:latest"}));
  EXPECT_EQ(m[1]["RepoTags"], nlohmann::json({"docker.io/team/app:1"}));
}

TEST_F(ExportsTest, AnImageAskedByDigestIsUntagged) {
  auto r = PutImage("docker.io/library/busybox", "busybox", "latest", "bb");
  metadata::ImageRecord pinned = r;
  pinned.tag = r.manifest_digest;  // pulled as busybox@sha256:...
  ASSERT_TRUE(s_.images.Put(pinned).has_value());
  std::vector<std::string> shown;
  auto m = ManifestJson({"busybox@" + r.manifest_digest}, &shown);
  EXPECT_EQ(shown, std::vector<std::string>{"busybox@" + r.manifest_digest});
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0]["RepoTags"], nlohmann::json::array());
}

TEST_F(ExportsTest, MissingBadAndLxcImagesAreRefusedNamingThem) {
  PutImage("docker.io/library/busybox", "busybox", "1.36", "bb");
  metadata::ImageRecord lxc;
  lxc.type = "lxc";
  lxc.name = lxc.display_name = "debian-bookworm";
  lxc.tag = "20240101_05:24";
  ASSERT_TRUE(s_.images.Put(lxc).has_value());

  Status missing = ErrorOf({"busybox:1.36", "busybox:9"});
  EXPECT_EQ(missing.code, Code::kNotFound);
  EXPECT_EQ(missing.message, "Image not found: busybox:9");
  Status bad = ErrorOf({"Busybox:1.36"});
  EXPECT_EQ(bad.code, Code::kInvalidArgument);
  EXPECT_NE(bad.message.find("Busybox:1.36"), std::string::npos) << bad.message;
  EXPECT_EQ(ErrorOf({}).code, Code::kInvalidArgument);
  for (const std::string lxc_name : {"debian-bookworm", "debian-bookworm:20240101_05:24"}) {
    Status refused = ErrorOf({lxc_name});
    EXPECT_EQ(refused.code, Code::kInvalidArgument) << lxc_name;
    EXPECT_NE(refused.message.find("LXC"), std::string::npos) << refused.message;
    EXPECT_NE(refused.message.find(lxc_name), std::string::npos) << refused.message;
  }
}

TEST(ParseArchiveFormatTest, DockerOrOci) {
  EXPECT_EQ(ParseArchiveFormat("docker"), archive::ArchiveFormat::kDocker);
  EXPECT_EQ(ParseArchiveFormat("oci"), archive::ArchiveFormat::kOci);
  for (std::string_view bad : {"", "OCI", "tar", "docker-archive"}) {
    auto f = ParseArchiveFormat(bad);
    ASSERT_FALSE(f.has_value()) << bad;
    EXPECT_EQ(f.error().code, Code::kInvalidArgument);
    EXPECT_NE(f.error().message.find("format"), std::string::npos);
  }
}

}  // namespace
}  // namespace wharf::service
