#include "wharf/service/registries.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "wharf/base/file_util.h"
#include "wharf/base/test_certificate.h"
#include "wharf/metadata/database.h"

namespace wharf::service {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kCert = kTestCertificatePem;

class RegistriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("wharf-registries-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    Open();
  }
  void TearDown() override {
    Close();
    fs::remove_all(dir_);
  }
  void Open() {
    auto db = metadata::Database::Open(dir_ / "wharf.db");
    ASSERT_TRUE(db) << db.error().ToString();
    db_ = std::move(*db);
    store_ = std::make_unique<metadata::RegistryStore>(*db_);
    registry::HostOptions config;
    config.username = "config-user";
    config.password = "config-secret";
    directory_ = std::make_shared<registry::HostDirectory>(
        std::map<std::string, registry::HostOptions>{{"config.example", config}},
        std::vector<std::string>{"https://config-mirror.example"});
    registry::Options options;
    options.directory = directory_;
    registries_ = std::make_unique<Registries>(*store_, *directory_, dir_ / "ca", options);
    ASSERT_TRUE(registries_->Load());
  }
  void Close() {
    registries_.reset();
    store_.reset();
    db_.reset();
  }

  static RegistrySettings Settings(std::string user, std::optional<std::string> password) {
    RegistrySettings s;
    s.username = std::move(user);
    s.password = std::move(password);
    return s;
  }

  fs::path dir_;
  std::unique_ptr<metadata::Database> db_;
  std::unique_ptr<metadata::RegistryStore> store_;
  std::shared_ptr<registry::HostDirectory> directory_;
  std::unique_ptr<Registries> registries_;
};

TEST_F(RegistriesTest, HostSyntax) {
  for (const char* good : {"registry.example", "127.0.0.1:5000", "localhost", "[::1]:5000",
                           "[fe80::1]", "a-b.example:443", "docker.io"}) {
    EXPECT_TRUE(CheckRegistryHost(good)) << good;
  }
  for (const char* bad : {"", "http://x.example", "x.example/path", "x.example:0", "x.example:",
                          "x.example:65536", "x.example:05", "-x.example", "x..example", "[::1",
                          "[nope]:5000", "::1", "x_y.example", "a.example:1:2"}) {
    auto checked = CheckRegistryHost(bad);
    ASSERT_FALSE(checked) << bad;
    EXPECT_EQ(checked.error().code, Code::kInvalidArgument);
    EXPECT_TRUE(checked.error().message.starts_with("host: ")) << checked.error().message;
  }
}

TEST_F(RegistriesTest, PutTakesEffectAtOnceSurvivesARestartAndNeverShowsThePassword) {
  auto put = registries_->Put("127.0.0.1:5000", Settings("alice", "s3cret"));
  ASSERT_TRUE(put) << put.error().ToString();
  EXPECT_EQ(put->source, "api");
  EXPECT_TRUE(put->credentials);
  EXPECT_EQ(put->username, "alice");
  EXPECT_EQ(directory_->Find("127.0.0.1:5000")->password, "s3cret");

  // No password given, same user: the stored one stays; another user: none.
  RegistrySettings insecure = Settings("alice", std::nullopt);
  insecure.insecure = true;
  ASSERT_TRUE(registries_->Put("127.0.0.1:5000", insecure));
  EXPECT_EQ(directory_->Find("127.0.0.1:5000")->password, "s3cret");
  EXPECT_TRUE(directory_->Find("127.0.0.1:5000")->insecure);

  Close();
  Open();
  ASSERT_TRUE(directory_->Find("127.0.0.1:5000"));
  EXPECT_EQ(directory_->Find("127.0.0.1:5000")->password, "s3cret");
  auto list = registries_->List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].host, "127.0.0.1:5000");
  EXPECT_EQ(list[1].host, "config.example");
  EXPECT_EQ(list[1].source, "config");

  ASSERT_TRUE(registries_->Put("127.0.0.1:5000", Settings("bob", std::nullopt)));
  EXPECT_EQ(directory_->Find("127.0.0.1:5000")->password, "");
}

TEST_F(RegistriesTest, BadFieldsAreNamedAndChangeNothing) {
  auto no_user = registries_->Put("r.example", Settings("", "pw"));
  ASSERT_FALSE(no_user);
  EXPECT_EQ(no_user.error().code, Code::kInvalidArgument);
  EXPECT_TRUE(no_user.error().message.starts_with("password: ")) << no_user.error().message;

  RegistrySettings bad_ca;
  bad_ca.ca_pem = "not a certificate";
  auto ca = registries_->Put("r.example", bad_ca);
  ASSERT_FALSE(ca);
  EXPECT_TRUE(ca.error().message.starts_with("ca_pem: ")) << ca.error().message;

  auto host = registries_->Put("r.example/x", {});
  ASSERT_FALSE(host);
  EXPECT_TRUE(host.error().message.starts_with("host: ")) << host.error().message;
  EXPECT_FALSE(directory_->Find("r.example"));
  EXPECT_TRUE(store_->List()->empty());
}

TEST_F(RegistriesTest, ConfigurationEntriesAreReadOnly) {
  auto put = registries_->Put("config.example", Settings("x", "y"));
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, Code::kConflict);
  EXPECT_NE(put.error().message.find("configuration file"), std::string::npos);
  auto removed = registries_->Remove("config.example");
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code, Code::kConflict);
  EXPECT_EQ(directory_->Find("config.example")->password, "config-secret");
}

TEST_F(RegistriesTest, CaIsWrittenPrivatelyAndRemovedWithItsEntry) {
  RegistrySettings with_ca;
  with_ca.ca_pem = std::string(kCert);
  auto put = registries_->Put("[::1]:5000", with_ca);
  ASSERT_TRUE(put) << put.error().ToString();
  EXPECT_TRUE(put->ca);
  const std::string file = directory_->Find("[::1]:5000")->ca_file;
  ASSERT_FALSE(file.empty());
  EXPECT_EQ(*ReadFile(file), kCert);
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_ / "ca").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  // Another CA: a file of its own, the old one gone once it is no longer named.
  with_ca.ca_pem = "issuer: test\n" + std::string(kCert);
  ASSERT_TRUE(registries_->Put("[::1]:5000", with_ca));
  const std::string second = directory_->Find("[::1]:5000")->ca_file;
  EXPECT_NE(second, file);
  EXPECT_TRUE(fs::exists(second));
  EXPECT_FALSE(fs::exists(file));
  ASSERT_TRUE(registries_->Put("[::1]:5000", {}));
  EXPECT_EQ(directory_->Find("[::1]:5000")->ca_file, "");
  EXPECT_FALSE(fs::exists(second));
  ASSERT_TRUE(registries_->Put("[::1]:5000", with_ca));

  ASSERT_TRUE(registries_->Remove("[::1]:5000"));
  EXPECT_FALSE(fs::exists(file));
  EXPECT_TRUE(fs::is_empty(dir_ / "ca"));
  EXPECT_FALSE(directory_->Find("[::1]:5000"));
  auto again = registries_->Remove("[::1]:5000");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::kNotFound);
}

TEST_F(RegistriesTest, MirrorsOfTheConfigurationComeFirstAndApiOnesAreValidated) {
  auto set = registries_->SetMirrors({"http://127.0.0.1:5001", "https://config-mirror.example"});
  ASSERT_TRUE(set) << set.error().ToString();
  ASSERT_EQ(set->size(), 2u);
  EXPECT_EQ((*set)[0].url, "https://config-mirror.example");
  EXPECT_EQ((*set)[0].source, "config");
  EXPECT_EQ((*set)[1].url, "http://127.0.0.1:5001");
  EXPECT_EQ((*set)[1].source, "api");
  EXPECT_EQ(directory_->Mirrors(),
            (std::vector<std::string>{"https://config-mirror.example", "http://127.0.0.1:5001"}));
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"ftp://x.example"},
                                              {"https://ok.example", "https://bad host"},
                                              {"https://x.example", "https://x.example"},
                                              {"https://x.example/?q=1"},
                                              {"https://user:secret@x.example"}}) {
    auto refused = registries_->SetMirrors(bad);
    ASSERT_FALSE(refused) << bad.back();
    EXPECT_TRUE(refused.error().message.starts_with("mirrors[")) << refused.error().message;
    EXPECT_EQ(refused.error().message.find("secret"), std::string::npos);
  }
  Close();
  Open();
  EXPECT_EQ(registries_->Mirrors().size(), 2u);
  ASSERT_TRUE(registries_->SetMirrors({}));
  EXPECT_EQ(directory_->Mirrors(), (std::vector<std::string>{"https://config-mirror.example"}));
}

}  // namespace
}  // namespace wharf::service
