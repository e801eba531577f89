#include "wharf/metadata/user_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "wharf/metadata/metadata_test_util.h"

namespace wharf::metadata {
namespace {

class UserStoreTest : public MetadataTest {
 protected:
  void SetUp() override {
    MetadataTest::SetUp();
    ASSERT_TRUE(Open());
  }
};

TEST_F(UserStoreTest, UsersRoundTripAndReplace) {
  EXPECT_EQ(*users_->CountUsers(), 0);
  UserRecord admin{"admin", "$argon2id$v=19$one", true};
  ASSERT_TRUE(users_->PutUser(admin));
  ASSERT_TRUE(users_->PutSession({"hash-1", "admin", 10, 20}));

  auto got = users_->GetUser("admin");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(Fields(**got), Fields(admin));

  UserRecord replaced{"admin", "$argon2id$v=19$two", false};
  ASSERT_TRUE(users_->PutUser(replaced));
  got = users_->GetUser("admin");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(Fields(**got), Fields(replaced));
  EXPECT_EQ(*users_->CountUsers(), 1);
  // Replacing a user updates it in place: its sessions are not cascaded away, and they
  // carry the user's new is_admin.
  auto session = users_->GetSession("hash-1");
  ASSERT_TRUE(session);
  ASSERT_TRUE(session->has_value());
  EXPECT_FALSE((*session)->is_admin);
  ASSERT_TRUE(users_->PutUser(admin));
  session = users_->GetSession("hash-1");
  ASSERT_TRUE(session && session->has_value());
  EXPECT_TRUE((*session)->is_admin);

  auto missing = users_->GetUser("nobody");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST_F(UserStoreTest, ListUsersByName) {
  EXPECT_TRUE(users_->ListUsers()->empty());
  ASSERT_TRUE(users_->PutUser({"zoe", "$h1", false}));
  ASSERT_TRUE(users_->PutUser({"admin", "$h2", true}));
  ASSERT_TRUE(users_->PutUser({"Bob", "$h3", false}));
  auto all = users_->ListUsers();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ(Fields((*all)[0]), Fields(UserRecord{"Bob", "$h3", false}));
  EXPECT_EQ(Fields((*all)[1]), Fields(UserRecord{"admin", "$h2", true}));
  EXPECT_EQ(Fields((*all)[2]), Fields(UserRecord{"zoe", "$h1", false}));
}

TEST_F(UserStoreTest, SessionsRoundTripAndExpire) {
  ASSERT_TRUE(users_->PutUser({"alice", "hash", false}));
  SessionRecord early{"early", "alice", 50, 100};
  SessionRecord late{"late", "alice", 60, 200};
  ASSERT_TRUE(users_->PutSession(early));
  ASSERT_TRUE(users_->PutSession(late));
  auto got = users_->GetSession("late");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(Fields(**got), Fields(late));

  ASSERT_TRUE(users_->DeleteExpiredSessions(99));
  EXPECT_TRUE(users_->GetSession("early")->has_value());
  ASSERT_TRUE(users_->DeleteExpiredSessions(100));  // expires_at == now counts as expired
  EXPECT_FALSE(users_->GetSession("early")->has_value());
  EXPECT_TRUE(users_->GetSession("late")->has_value());

  ASSERT_TRUE(users_->DeleteSession("late"));
  EXPECT_FALSE(users_->GetSession("late")->has_value());
  ASSERT_TRUE(users_->DeleteSession("late"));  // deleting twice is fine
}

TEST_F(UserStoreTest, SessionForUnknownUserFailsWithOperationName) {
  auto put = users_->PutSession({"hash", "ghost", 1, 2});
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, Code::kInternal);
  EXPECT_NE(put.error().message.find("UserStore::PutSession"), std::string::npos)
      << put.error().message;
  EXPECT_NE(put.error().message.find("FOREIGN KEY"), std::string::npos) << put.error().message;
}

TEST_F(UserStoreTest, DeleteUserEndsTheirSessions) {
  ASSERT_TRUE(users_->PutUser({"bob", "hash", false}));
  ASSERT_TRUE(users_->PutUser({"eve", "hash", false}));
  ASSERT_TRUE(users_->PutSession({"s1", "bob", 1, 100}));
  ASSERT_TRUE(users_->PutSession({"s2", "eve", 1, 100}));
  ASSERT_TRUE(users_->DeleteSessionsOf("eve"));
  EXPECT_FALSE(*users_->GetSession("s2"));
  EXPECT_TRUE(*users_->GetUser("eve"));
  ASSERT_TRUE(users_->DeleteUser("bob"));
  EXPECT_FALSE(*users_->GetUser("bob"));
  EXPECT_FALSE(*users_->GetSession("s1"));
  EXPECT_EQ(*users_->CountUsers(), 1);
  ASSERT_TRUE(users_->DeleteUser("bob"));  // no such user: fine
  EXPECT_EQ(RawQuery(path_, "SELECT count(*) FROM sessions"), "0");
}

TEST_F(UserStoreTest, InsertUserNeverReplacesAnExistingOne) {
  ASSERT_TRUE(users_->InsertUser({"carol", "first", false}));
  auto again = users_->InsertUser({"carol", "second", true});
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  auto got = users_->GetUser("carol");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->password_hash, "first");
  EXPECT_FALSE((*got)->is_admin);
}

TEST_F(UserStoreTest, DeleteUserIfKeepsTheLastAdminEvenAgainstConcurrentRemovals) {
  using Outcome = UserStore::RemoveOutcome;
  ASSERT_TRUE(users_->PutUser({"root", "hash", true}));
  ASSERT_TRUE(users_->PutUser({"root2", "hash", true}));
  ASSERT_TRUE(users_->PutUser({"user", "hash", false}));
  EXPECT_EQ(*users_->DeleteUserIf("nobody", true), Outcome::kNoSuchUser);
  EXPECT_EQ(*users_->DeleteUserIf("user", true), Outcome::kRemoved);
  // Two removals at once of the two admins: exactly one of them may succeed.
  Result<Outcome> first = Outcome::kNoSuchUser, second = Outcome::kNoSuchUser;
  std::thread other([&] { second = users_->DeleteUserIf("root2", true); });
  first = users_->DeleteUserIf("root", true);
  other.join();
  ASSERT_TRUE(first && second);
  EXPECT_EQ((*first == Outcome::kRemoved) + (*second == Outcome::kRemoved), 1);
  EXPECT_EQ((*first == Outcome::kLastAdmin) + (*second == Outcome::kLastAdmin), 1);
  EXPECT_EQ(*users_->CountUsers(), 1);
  // Without the guard, the last admin can go (wharfd user rm is refused elsewhere).
  EXPECT_EQ(*users_->DeleteUserIf(*first == Outcome::kRemoved ? "root2" : "root", false),
            Outcome::kRemoved);
}

}  // namespace
}  // namespace wharf::metadata
