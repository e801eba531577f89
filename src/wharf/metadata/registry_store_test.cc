#include "wharf/metadata/registry_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "wharf/metadata/metadata_test_util.h"

namespace wharf::metadata {
namespace {

auto RegistryFields(const RegistryRecord& r) {
  return std::tie(r.host, r.insecure, r.ca_pem, r.username, r.password, r.updated_at);
}

RegistryRecord MakeRegistry(const std::string& host) {
  return RegistryRecord{host,
                        true,
                        "-----BEGIN CERTIFICATE-----\n" + host + "\n",
                        "user-" + host,
                        "password-" + host,
                        1700000000};
}

class RegistryStoreTest : public MetadataTest {
 protected:
  void SetUp() override {
    MetadataTest::SetUp();
    ASSERT_TRUE(OpenAll());
  }
  void TearDown() override {
    registries_.reset();
    MetadataTest::TearDown();
  }
  bool OpenAll() {
    if (!Open()) return false;
    registries_ = std::make_unique<RegistryStore>(*db_);
    return true;
  }
  void Reopen() {
    registries_.reset();
    Close();
    ASSERT_TRUE(OpenAll());
  }

  std::vector<std::string> Hosts() {
    auto records = registries_->List();
    EXPECT_TRUE(records) << records.error().ToString();
    std::vector<std::string> hosts;
    if (records) {
      for (const auto& r : *records) hosts.push_back(r.host);
    }
    return hosts;
  }

  std::unique_ptr<RegistryStore> registries_;
};

TEST_F(RegistryStoreTest, PutGetReplaceAndSurviveReopen) {
  RegistryRecord record = MakeRegistry("127.0.0.1:5000");
  ASSERT_TRUE(registries_->Put(record));
  ASSERT_TRUE(registries_->Put(MakeRegistry("a.example")));
  auto got = registries_->Get("127.0.0.1:5000");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(RegistryFields(**got), RegistryFields(record));

  // Every field replaced, none kept from the first record.
  RegistryRecord plain{"127.0.0.1:5000", false, "", "", "", 1800000000};
  ASSERT_TRUE(registries_->Put(plain));
  Reopen();
  got = registries_->Get("127.0.0.1:5000");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(RegistryFields(**got), RegistryFields(plain));
  EXPECT_EQ(Hosts(), (std::vector<std::string>{"127.0.0.1:5000", "a.example"}));
}

TEST_F(RegistryStoreTest, DeleteSaysWhetherThereWasARecord) {
  ASSERT_TRUE(registries_->Put(MakeRegistry("a.example")));
  auto deleted = registries_->Delete("a.example");
  ASSERT_TRUE(deleted);
  EXPECT_TRUE(*deleted);
  deleted = registries_->Delete("a.example");
  ASSERT_TRUE(deleted);
  EXPECT_FALSE(*deleted);
  auto got = registries_->Get("a.example");
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->has_value());
  EXPECT_TRUE(Hosts().empty());
}

TEST_F(RegistryStoreTest, EmptyHostIsRefused) {
  auto put = registries_->Put(MakeRegistry(""));
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, Code::kInvalidArgument);
  EXPECT_TRUE(Hosts().empty());
}

TEST_F(RegistryStoreTest, MirrorsKeepTheirOrderAndAreReplacedWhole) {
  auto none = registries_->Mirrors();
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  const std::vector<std::string> first = {"https://z.example", "http://a.example:5000"};
  ASSERT_TRUE(registries_->SetMirrors(first));
  Reopen();
  EXPECT_EQ(*registries_->Mirrors(), first);
  ASSERT_TRUE(registries_->SetMirrors({"https://m.example"}));
  EXPECT_EQ(*registries_->Mirrors(), (std::vector<std::string>{"https://m.example"}));
  ASSERT_TRUE(registries_->SetMirrors({}));
  EXPECT_TRUE(registries_->Mirrors()->empty());
}

}  // namespace
}  // namespace wharf::metadata
