// service::Updates and LXC images: an image server (a fake lxc-download index) that publishes
// a newer build flags the stored `latest`; a download of it, another catalog, a server that
// fails, tags that are build serials. Over a real database and blob store (updates_test_util.h).
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "wharf/depot/catalog.h"
#include "wharf/lxc/lxc_image.h"
#include "wharf/registry/http_getter.h"
#include "wharf/service/updates.h"
#include "wharf/service/updates_test_util.h"

namespace wharf::service {
namespace {

using registry::testing::FakeHttpServer;
using registry::testing::FakeRequest;
using registry::testing::FakeResponse;

constexpr char kOld[] = "20240101_05:24";
constexpr char kNew[] = "20240102_05:24";
const std::string kSha(64, 'a');

// An lxc-download image server: meta/1.0/index-system lists the builds of testos/one, each
// build's SHA256SUMS its two files.
class ImageServer {
 public:
  ImageServer() : server_([this](const FakeRequest& request) { return Answer(request); }) {}
  std::string url() const { return "http://" + server_.host(); }
  void Publish(const std::vector<std::string>& serials) {
    std::lock_guard lock(mu_);
    serials_ = serials;
  }
  void SetFailing(int status) {
    std::lock_guard lock(mu_);
    failing_ = status;
  }

 private:
  static std::string Dir(const std::string& serial) {
    return "/images/testos/one/amd64/default/" + serial + "/";
  }
  FakeResponse Answer(const FakeRequest& request) {
    std::lock_guard lock(mu_);
    if (failing_ != 0) return FakeResponse{failing_, {}, ""};
    if (request.target == "/meta/1.0/index-system") {
      std::string index;
      for (const auto& serial : serials_) {
        index += "testos;one;amd64;default;" + serial + ";" + Dir(serial) + "\n";
      }
      return FakeResponse{200, {}, index};
    }
    for (const auto& serial : serials_) {
      if (request.target == Dir(serial) + "SHA256SUMS") {
        return FakeResponse{200, {}, kSha + "  rootfs.tar.xz\n" + kSha + "  meta.tar.xz\n"};
      }
    }
    return FakeResponse{404, {}, ""};
  }

  std::mutex mu_;
  std::vector<std::string> serials_;
  int failing_ = 0;
  FakeHttpServer server_;
};

class LxcUpdatesTest : public UpdatesTestBase {
 protected:
  LxcUpdatesTest() {
    depot::CatalogEntry entry;
    entry.name = "testos-one";
    entry.type = "lxc";
    entry.source =
        depot::LxcSource{"lxc-download", images_.url(), "testos", "one", "amd64", "default"};
    catalog_->entries.push_back(entry);
    lxc_ = {[this] { return catalog_; }, &web_, {.request_tries = 1}};
  }
  ~LxcUpdatesTest() override { updates_.reset(); }  // before the getter it reads through

  // testos-one:`tag` stored as a download of build `serial` leaves it.
  metadata::ImageRecord StoredLxc(const std::string& tag, const std::string& serial) {
    metadata::ImageRecord image;
    image.type = "lxc";
    image.name = image.display_name = "testos-one";
    image.tag = tag;
    lxc::LxcImageInfo info{serial, "lxc-download", images_.url(), {}, std::nullopt};
    const std::string rootfs = PutTestBlob(services_, "rootfs of " + serial);
    info.files.push_back({"rootfs", rootfs, 10, images_.url() + "/rootfs.tar.xz"});
    image.blobs = {rootfs};
    image.extra = info.ToJson();
    EXPECT_TRUE(services_.images.Put(image));
    services_.changes.Count();
    return image;
  }
  UpdateView CheckLxc(const std::string& tag = "latest") {
    auto checked = updates().Check("lxc", "testos-one", tag);
    EXPECT_TRUE(checked) << checked.error().ToString();
    return LxcView(checked ? *checked : std::vector<UpdateView>{});
  }
  UpdateView LxcView(const std::vector<UpdateView>& views) {
    for (const auto& view : views) {
      if (view.type == "lxc" && view.name == "testos-one") return view;
    }
    ADD_FAILURE() << "testos-one is not listed";
    return {};
  }

  ImageServer images_;
  registry::HttpGetter web_{registry::Options{}};
  std::shared_ptr<depot::Catalog> catalog_ = std::make_shared<depot::Catalog>();
};

TEST_F(LxcUpdatesTest, ANewerBuildFlagsLatestAndItsDownloadEndsIt) {
  StoredLxc("latest", kOld);
  images_.Publish({kOld});
  UpdateView view = LxcView(updates().List().value());
  EXPECT_EQ(view.local_digest, kOld);
  EXPECT_EQ(view.checked_at, 0);

  view = CheckLxc();
  EXPECT_FALSE(view.update_available);
  EXPECT_EQ(view.remote_digest, kOld);
  EXPECT_EQ(view.error, "");

  images_.Publish({kOld, kNew});
  view = CheckLxc();
  EXPECT_TRUE(view.update_available);
  EXPECT_EQ(view.local_digest, kOld);
  EXPECT_EQ(view.remote_digest, kNew);
  EXPECT_TRUE(updates().Available().contains({"lxc", "testos-one", "latest"}));
  auto events = UpdateEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "lxc");
  EXPECT_EQ(events[0]["remote_digest"], kNew);

  // The download of latest takes the newest build: the flag ends with it.
  StoredLxc("latest", kNew);
  view = LxcView(updates().List().value());
  EXPECT_FALSE(view.update_available);
  EXPECT_EQ(view.local_digest, kNew);
  EXPECT_TRUE(updates().Available().empty());
  EXPECT_FALSE(CheckLxc().update_available);
}

TEST_F(LxcUpdatesTest, AnOlderNewestBuildIsNoUpdate) {
  StoredLxc("latest", kNew);
  images_.Publish({kOld});  // the newest build was taken down
  UpdateView view = CheckLxc();
  EXPECT_FALSE(view.update_available);
  EXPECT_EQ(view.remote_digest, kOld);
}

TEST_F(LxcUpdatesTest, CheckingEverythingCoversLatestOnly) {
  StoredLxc("latest", kOld);
  StoredLxc(kOld, kOld);
  auto docker = Stored("team/app", "latest", "one");
  Serve("team/app", "latest", docker);
  images_.Publish({kOld, kNew});
  auto checked = updates().Check("", "", "");
  ASSERT_TRUE(checked) << checked.error().ToString();
  ASSERT_EQ(checked->size(), 2u) << "the build-serial tag is not listed";
  EXPECT_TRUE(LxcView(*checked).update_available);
  EXPECT_FALSE(ViewOf(*checked, "team/app", "latest").update_available);

  auto serial = updates().Check("lxc", "testos-one", kOld);
  ASSERT_FALSE(serial);
  EXPECT_EQ(serial.error().code, Code::kInvalidArgument) << serial.error().ToString();
  auto missing = updates().Check("lxc", "testos-two", "");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound) << missing.error().ToString();
}

TEST_F(LxcUpdatesTest, AFailedCheckKeepsTheFlag) {
  StoredLxc("latest", kOld);
  images_.Publish({kOld, kNew});
  ASSERT_TRUE(CheckLxc().update_available);

  images_.SetFailing(404);
  UpdateView view = CheckLxc();
  EXPECT_TRUE(view.update_available);
  EXPECT_NE(view.error.find("index-system"), std::string::npos) << view.error;

  images_.SetFailing(0);
  catalog_ = std::make_shared<depot::Catalog>();  // the catalog no longer lists it
  view = CheckLxc();
  EXPECT_TRUE(view.update_available);
  EXPECT_NE(view.error.find("the appcenter catalog does not list it"), std::string::npos)
      << view.error;
}

TEST_F(LxcUpdatesTest, WithoutAnIndexLxcImagesAreLeftOut) {
  lxc_ = {};
  StoredLxc("latest", kOld);
  auto listed = updates().List();
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
  auto checked = updates().Check("lxc", "testos-one", "latest");
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code, Code::kInvalidArgument);
}

TEST(NewerBuildTest, SerialsByDateOtherNamesByDifference) {
  EXPECT_TRUE(NewerBuild(kOld, kNew));
  EXPECT_FALSE(NewerBuild(kNew, kOld));
  EXPECT_FALSE(NewerBuild(kNew, kNew));
  EXPECT_TRUE(NewerBuild("sha256-0123456789ab", "sha256-ba9876543210"));
  EXPECT_FALSE(NewerBuild("sha256-0123456789ab", "sha256-0123456789ab"));
  EXPECT_TRUE(NewerBuild("", kOld));
}

}  // namespace
}  // namespace wharf::service
