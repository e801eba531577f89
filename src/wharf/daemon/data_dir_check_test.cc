#include "wharf/daemon/data_dir_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wharf/base/file_util.h"

namespace wharf::daemon {
namespace {

using ::testing::HasSubstr;

class DataDirCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wharf-datadir-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(DataDirCheckTest, APrivateDirectoryPassesQuietly) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0700), 0);
  auto checked = CheckDataDir(dir_, ::geteuid());
  ASSERT_TRUE(checked) << checked.error().ToString();
  EXPECT_TRUE(checked->empty());
}

TEST_F(DataDirCheckTest, OpenToOthersOrItsGroupIsAWarning) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0775), 0);
  auto checked = CheckDataDir(dir_, ::geteuid());
  ASSERT_TRUE(checked) << checked.error().ToString();
  ASSERT_EQ(checked->size(), 2u);
  EXPECT_THAT((*checked)[0], HasSubstr("writable by its group (mode 0775)"));
  EXPECT_THAT((*checked)[1], HasSubstr("chmod 700"));
}

TEST_F(DataDirCheckTest, WritableByEveryUserIsRefused) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);
  auto checked = CheckDataDir(dir_, ::geteuid());
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code, Code::kPermissionDenied);
  EXPECT_THAT(checked.error().message, HasSubstr(dir_.string() + " is writable by every user"));
  EXPECT_THAT(checked.error().message, HasSubstr("chmod o-w"));
}

TEST_F(DataDirCheckTest, AnotherUsersDirectoryIsRefused) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0700), 0);
  auto checked = CheckDataDir(dir_, ::geteuid() + 1);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code, Code::kPermissionDenied);
  EXPECT_THAT(checked.error().message, HasSubstr("belongs to uid " + std::to_string(::geteuid())));
}

TEST_F(DataDirCheckTest, AFileIsNotADataDirectory) {
  auto file = dir_ / "f";
  ASSERT_TRUE(WriteFileAtomic(file, "x", 0600));
  auto checked = CheckDataDir(file, ::geteuid());
  ASSERT_FALSE(checked);
  EXPECT_THAT(checked.error().message, HasSubstr("is not a directory"));
}

}  // namespace
}  // namespace wharf::daemon
