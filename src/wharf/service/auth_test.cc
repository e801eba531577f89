#include "wharf/service/auth.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <vector>

#include "wharf/base/clock.h"
#include "wharf/base/file_util.h"

namespace wharf::service {
namespace {

namespace fs = std::filesystem;

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("wharf-auth-test-" + RandomHex(8));
    fs::create_directories(root_);
    database_ = std::move(metadata::Database::Open(root_ / "wharf.db").value());
    metadata_ = std::make_unique<metadata::UserStore>(*database_);
  }
  void TearDown() override {
    metadata_.reset();
    database_.reset();
    fs::remove_all(root_);
  }

  // libsodium's verification, recording the hash of each call.
  PasswordVerifier Recording() {
    return [this](const std::string& hash, const std::string& password) {
      verified_.push_back(hash);
      return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
    };
  }

  std::string StoredHash(const std::string& username) {
    return metadata_->GetUser(username).value().value().password_hash;
  }

  // "$argon2id$v=19$m=65536,t=2,p=1$": everything before the salt.
  static std::string Parameters(const std::string& hash) {
    return hash.substr(0, hash.rfind('$', hash.rfind('$') - 1) + 1);
  }

  fs::path root_;
  std::unique_ptr<metadata::Database> database_;
  std::unique_ptr<metadata::UserStore> metadata_;
  std::vector<std::string> verified_;
};

TEST_F(AuthTest, WrongPasswordAndUnknownUserFailAlike) {
  Auth auth(*metadata_, 3600);
  ASSERT_TRUE(auth.SetUser("alice", "right", false));
  auto ok = auth.Login("alice", "right");
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->username, "alice");
  EXPECT_TRUE(auth.Check(ok->id));

  auto wrong = auth.Login("alice", "wrong");
  auto unknown = auth.Login("nobody", "right");
  ASSERT_FALSE(wrong);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(wrong.error().code, Code::kUnauthenticated);
  EXPECT_EQ(unknown.error().code, Code::kUnauthenticated);
  EXPECT_EQ(wrong.error().message, "invalid username or password");
  EXPECT_EQ(unknown.error().message, wrong.error().message);
}

TEST_F(AuthTest, ASessionIsStampedAndExpiresOnTheClock) {
  FakeClock clock;
  Auth auth(*metadata_, 3600, {}, clock);
  ASSERT_TRUE(auth.SetUser("alice", "right", false));
  auto session = auth.Login("alice", "right");
  ASSERT_TRUE(session) << session.error().ToString();
  EXPECT_EQ(session->created_at, FakeClock::kDefaultStart);

  clock.Advance(std::chrono::seconds(3599));
  auto checked = auth.Check(session->id);
  ASSERT_TRUE(checked) << checked.error().ToString();
  EXPECT_EQ(checked->created_at, FakeClock::kDefaultStart);
  clock.Advance(std::chrono::seconds(1));  // the TTL has passed: no sleep needed
  auto expired = auth.Check(session->id);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code, Code::kUnauthenticated);
  EXPECT_EQ(expired.error().message, "login required");

  // Expiry is wall time, stored: the operator setting the clock back revives the session.
  clock.SetNowSeconds(FakeClock::kDefaultStart);
  EXPECT_TRUE(auth.Check(session->id));
}

TEST_F(AuthTest, UnknownUserVerifiesADummyHashMadeOnceLikeRealOnes) {
  Auth auth(*metadata_, 3600, Recording());
  ASSERT_TRUE(auth.SetUser("alice", "right", false));
  const std::string alice = StoredHash("alice");

  ASSERT_FALSE(auth.Login("alice", "wrong"));
  ASSERT_FALSE(auth.Login("nobody", "wrong"));
  ASSERT_FALSE(auth.Login("ghost", ""));
  ASSERT_EQ(verified_.size(), 3u);  // one verification per login, whoever it names
  EXPECT_EQ(verified_[0], alice);
  const std::string& dummy = verified_[1];
  EXPECT_NE(dummy, alice);
  EXPECT_EQ(verified_[2], dummy);  // made once
  EXPECT_TRUE(dummy.starts_with("$argon2id$"));
  EXPECT_EQ(Parameters(dummy), Parameters(alice));  // same algorithm, version, m, t and p
  EXPECT_EQ(Parameters(alice), "$argon2id$v=19$m=65536,t=2,p=1$");
}

TEST_F(AuthTest, AVerifierThatAcceptsTheDummyStillLetsNoUnknownUserIn) {
  Auth auth(*metadata_, 3600, [](const std::string&, const std::string&) { return true; });
  auto unknown = auth.Login("nobody", "anything");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Code::kUnauthenticated);
}

TEST_F(AuthTest, AddUserChecksTheNameThePasswordAndThatItIsNew) {
  Auth auth(*metadata_, 3600);
  ASSERT_TRUE(auth.AddUser("carol.c-1", "long-enough", false));
  EXPECT_EQ(auth.AddUser("carol.c-1", "long-enough", false).error().code, Code::kConflict);
  EXPECT_EQ(auth.AddUser("c a", "long-enough", false).error().code, Code::kInvalidArgument);
  EXPECT_EQ(auth.AddUser("", "long-enough", false).error().code, Code::kInvalidArgument);
  EXPECT_EQ(auth.AddUser("dan", "short", false).error().code, Code::kInvalidArgument);
  auto users = auth.ListUsers();
  ASSERT_TRUE(users);
  ASSERT_EQ(users->size(), 1u);
  EXPECT_EQ((*users)[0].username, "carol.c-1");
  EXPECT_FALSE((*users)[0].is_admin);
}

TEST_F(AuthTest, TheLastAdminCannotBeRemoved) {
  Auth auth(*metadata_, 3600);
  ASSERT_TRUE(auth.AddUser("root", "long-enough", true));
  ASSERT_TRUE(auth.AddUser("user", "long-enough", false));
  EXPECT_EQ(auth.RemoveUser("root").error().code, Code::kConflict);
  ASSERT_TRUE(auth.AddUser("root2", "long-enough", true));
  EXPECT_TRUE(auth.RemoveUser("root"));
  EXPECT_TRUE(auth.RemoveUser("user"));
  EXPECT_EQ(auth.RemoveUser("root2").error().code, Code::kConflict);
}

TEST_F(AuthTest, ChangeOwnPasswordNeedsTheCurrentOneAndEndsSessions) {
  Auth auth(*metadata_, 3600);
  ASSERT_TRUE(auth.AddUser("carol", "first-pass", false));
  auto session = auth.Login("carol", "first-pass");
  ASSERT_TRUE(session);
  EXPECT_EQ(auth.ChangeOwnPassword("carol", "wrong-pass", "second-pass").error().code,
            Code::kUnauthenticated);
  EXPECT_TRUE(auth.Check(session->id));
  EXPECT_EQ(auth.ChangeOwnPassword("carol", "first-pass", "short").error().code,
            Code::kInvalidArgument);
  ASSERT_TRUE(auth.ChangeOwnPassword("carol", "first-pass", "second-pass"));
  EXPECT_FALSE(auth.Check(session->id));
  EXPECT_FALSE(auth.Login("carol", "first-pass"));
  EXPECT_TRUE(auth.Login("carol", "second-pass"));
}

}  // namespace
}  // namespace wharf::service
