#include "wharf/cli/session_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "wharf/base/file_util.h"

namespace wharf::cli {
namespace {

namespace fs = std::filesystem;

class SessionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wharf-cli-" + RandomHex(6));
    ASSERT_TRUE(MakeDirs(dir_));
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

unsigned Mode(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST(SessionPathTest, FollowsXdgThenHome) {
  EXPECT_EQ(*SessionPathFor("/x/conf", "/home/u"), fs::path("/x/conf/wharf/session"));
  EXPECT_EQ(*SessionPathFor("", "/home/u"), fs::path("/home/u/.config/wharf/session"));
  EXPECT_EQ(*SessionPathFor("relative", "/home/u"), fs::path("/home/u/.config/wharf/session"));
  EXPECT_FALSE(SessionPathFor("", ""));
}

TEST_F(SessionStoreTest, SavesPrivatelyAndLoadsBack) {
  auto path = *SessionPathFor("", dir_.string());
  SessionStore store(path);
  Session s{"http://127.0.0.1:9", "wharf_session=abc", "admin", "2026-11-23 10:00:00"};
  ASSERT_TRUE(store.Save(s));
  EXPECT_EQ(Mode(path), 0600u);
  EXPECT_EQ(Mode(path.parent_path()), 0700u);
  auto loaded = store.Load();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->server, s.server);
  EXPECT_EQ(loaded->cookie, s.cookie);
  EXPECT_EQ(loaded->username, s.username);
  EXPECT_EQ(loaded->logintime, s.logintime);

  s.cookie = "wharf_session=def";
  ASSERT_TRUE(store.Save(s));  // replaced atomically: no temp file stays behind
  EXPECT_EQ(store.Load()->cookie, "wharf_session=def");
  EXPECT_EQ(std::distance(fs::directory_iterator(path.parent_path()), fs::directory_iterator()), 1);
  EXPECT_EQ(Mode(path), 0600u);
}

TEST_F(SessionStoreTest, MissingIsNotLoggedInAndDamagedIsNamed) {
  SessionStore store(dir_ / "wharf" / "session");
  auto missing = store.Load();
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kUnauthenticated);

  ASSERT_TRUE(MakeDirs(dir_ / "wharf"));
  for (const char* text : {"not json", "{\"cookie\": \"c=1\"}", "[]"}) {
    ASSERT_TRUE(WriteFileAtomic(store.path(), text, 0600));
    auto damaged = store.Load();
    ASSERT_FALSE(damaged) << text;
    EXPECT_EQ(damaged.error().code, Code::kInvalidArgument);
    EXPECT_NE(damaged.error().message.find(store.path().string()), std::string::npos);
  }
}

TEST_F(SessionStoreTest, RemoveSaysWhetherThereWasOne) {
  SessionStore store(dir_ / "wharf" / "session");
  EXPECT_EQ(*store.Remove(), false);
  ASSERT_TRUE(store.Save({"http://h", "c=1", "u", ""}));
  EXPECT_EQ(*store.Remove(), true);
  EXPECT_FALSE(fs::exists(store.path()));
}

TEST_F(SessionStoreTest, ForgetKeepsTheServerForTheNextLogin) {
  SessionStore store(dir_ / "wharf" / "session");
  EXPECT_EQ(store.LastServer(), std::nullopt);
  ASSERT_TRUE(store.Forget());  // nothing to forget
  EXPECT_FALSE(fs::exists(store.path()));
  ASSERT_TRUE(store.Save({"http://nas:8080", "c=1", "u", "t"}));
  ASSERT_TRUE(store.Forget());
  auto loaded = store.Load();
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, Code::kUnauthenticated);
  EXPECT_EQ(store.LastServer(), "http://nas:8080");
  EXPECT_EQ(ReadFile(store.path(), 4096)->find("c=1"), std::string::npos);
  EXPECT_EQ(fs::status(store.path()).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

}  // namespace
}  // namespace wharf::cli
