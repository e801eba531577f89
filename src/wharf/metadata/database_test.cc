// Database: the file it creates, the schema it checks, what survives a reopen, and the stores
// over one connection used from many threads at once.
#include "wharf/metadata/database.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "wharf/metadata/metadata_schema.h"
#include "wharf/metadata/metadata_test_util.h"

namespace wharf::metadata {
namespace {

namespace fs = std::filesystem;

using DatabaseTest = MetadataTest;

TEST_F(DatabaseTest, OpenCreatesPrivateWalDatabaseAtTheLatestSchemaVersion) {
  ASSERT_TRUE(Open());
  ASSERT_TRUE(images_->Put(MakeImage("ubuntu", "latest", {"sha256:a"})));
  EXPECT_EQ(FileMode(path_), 0600u);
  // SQLite copies the database's mode to the WAL, which exists while the database is open.
  ASSERT_TRUE(fs::exists(path_.string() + "-wal"));
  EXPECT_EQ(FileMode(path_.string() + "-wal"), 0600u);
  EXPECT_EQ(RawQuery(path_, "PRAGMA user_version"), std::to_string(kSchemaVersion));
  EXPECT_EQ(RawQuery(path_, "PRAGMA journal_mode"), "wal");
  auto ok = db_->IntegrityOk();
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_TRUE(*ok);
}

TEST_F(DatabaseTest, EverythingPersistsAcrossReopen) {
  ImageRecord image = MakeImage("alpine", "3.19", {"sha256:m", "sha256:c", "sha256:l"});
  JobRecord job = MakeJob("busybox");
  UserRecord user{"admin", "secret-hash", true};
  SessionRecord session{"sid", "admin", 5, 500};
  ASSERT_TRUE(Open());
  ASSERT_TRUE(images_->Put(image));
  auto id = jobs_->Add(job);
  ASSERT_TRUE(id);
  job.id = *id;
  ASSERT_TRUE(users_->PutUser(user));
  ASSERT_TRUE(users_->PutSession(session));
  Close();
  // Closing the last connection checkpoints the WAL into the database file itself.
  EXPECT_GT(fs::file_size(path_), 0u);
  EXPECT_FALSE(fs::exists(path_.string() + "-wal"));
  EXPECT_EQ(RawQuery(path_, "SELECT display_name FROM images"), "alpine");

  ASSERT_TRUE(Open());
  auto images = images_->List();
  ASSERT_TRUE(images);
  ASSERT_EQ(images->size(), 1u);
  image.blobs = {"sha256:c", "sha256:l", "sha256:m"};
  EXPECT_EQ(Fields((*images)[0]), Fields(image));
  auto jobs = jobs_->List();
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ(Fields((*jobs)[0]), Fields(job));
  auto got_user = users_->GetUser("admin");
  ASSERT_TRUE(got_user && got_user->has_value());
  EXPECT_EQ(Fields(**got_user), Fields(user));
  auto got_session = users_->GetSession("sid");
  ASSERT_TRUE(got_session && got_session->has_value());
  EXPECT_EQ(Fields(**got_session), Fields(session));
  EXPECT_EQ(RawQuery(path_, "PRAGMA user_version"), std::to_string(kSchemaVersion));
}

TEST_F(DatabaseTest, OpenRejectsGarbageFileNamingItAndLeavesItAlone) {
  ASSERT_TRUE(MakeDirs(path_.parent_path()));
  const std::string garbage = "this is not an SQLite database\n" + std::string(5000, '\x7f');
  ASSERT_TRUE(WriteFileAtomic(path_, garbage));

  auto db = Database::Open(path_);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, Code::kInternal);
  EXPECT_NE(db.error().message.find(path_.string()), std::string::npos) << db.error().message;
  EXPECT_NE(db.error().message.find("not a database"), std::string::npos) << db.error().message;
  EXPECT_EQ(*ReadFile(path_), garbage);
}

TEST_F(DatabaseTest, OpenRejectsNewerSchema) {
  ASSERT_TRUE(Open());
  Close();
  for (int version : {kSchemaVersion + 1, 99}) {
    RawQuery(path_, "PRAGMA user_version = " + std::to_string(version));
    auto db = Database::Open(path_);
    ASSERT_FALSE(db) << version;
    EXPECT_NE(db.error().message.find("newer"), std::string::npos) << db.error().message;
    EXPECT_NE(db.error().message.find(path_.string()), std::string::npos);
    EXPECT_EQ(RawQuery(path_, "PRAGMA user_version"), std::to_string(version));
  }
}

// A file as wharf left it at schema version 1 (in WAL mode, with an image, its edges and a
// user) is migrated in place: its records stay, and the tables of version 2 are there.
TEST_F(DatabaseTest, OpenMigratesSchemaVersion1KeepingItsRecords) {
  ASSERT_TRUE(MakeDirs(path_.parent_path()));
  RawExec(path_, "PRAGMA journal_mode = WAL;" + std::string(SchemaStepSql(1)) + R"sql(
    PRAGMA user_version = 1;
    INSERT INTO images VALUES (7, 'docker', 'docker.io/library/alpine', '3.19', 'alpine',
      'sha256:m', 'application/vnd.oci.image.manifest.v1+json', 1234, 'sha256:c', 'amd64',
      'linux', 5000, 'the alpine image', '/containers/alpine', 'icon.png', '{}', 1700000000);
    INSERT INTO image_blobs VALUES (7, 'sha256:m'), (7, 'sha256:c');
    INSERT INTO users VALUES ('admin', 'hash', 1);
  )sql");
  ASSERT_EQ(RawQuery(path_, "PRAGMA user_version"), "1");

  ASSERT_TRUE(Open());
  EXPECT_EQ(RawQuery(path_, "PRAGMA user_version"), std::to_string(kSchemaVersion));
  auto images = images_->List();
  ASSERT_TRUE(images) << images.error().ToString();
  ASSERT_EQ(images->size(), 1u);
  EXPECT_EQ((*images)[0].name, "docker.io/library/alpine");
  EXPECT_EQ((*images)[0].manifest_digest, "sha256:m");
  EXPECT_EQ((*images)[0].size, 5000);
  EXPECT_EQ((*images)[0].blobs, (std::vector<std::string>{"sha256:c", "sha256:m"}));
  auto user = users_->GetUser("admin");
  ASSERT_TRUE(user && user->has_value());
  EXPECT_TRUE((*user)->is_admin);
  auto updates = updates_->List();
  ASSERT_TRUE(updates) << updates.error().ToString();
  EXPECT_TRUE(updates->empty());
  ASSERT_TRUE(updates_->Put({"docker", "docker.io/library/alpine", "3.19", "sha256:m", "sha256:n",
                             true, 1800000000, ""}));
  EXPECT_TRUE(updates_->Get("docker", "docker.io/library/alpine", "3.19")->has_value());
  auto ok = db_->IntegrityOk();
  ASSERT_TRUE(ok && *ok);
}

// Every store serialises on the one connection: writers of images, jobs and sessions and a
// reader run at once without a failure, and each write is there afterwards.
TEST_F(DatabaseTest, StoresOverOneDatabaseFromManyThreads) {
  constexpr int kPerThread = 100;
  ASSERT_TRUE(Open());
  ASSERT_TRUE(users_->PutUser({"alice", "hash", false}));
  std::atomic<int> failures = 0;
  std::atomic<bool> writing = true;
  std::vector<std::thread> writers;
  writers.emplace_back([&] {
    for (int i = 0; i < kPerThread; ++i) {
      if (!images_->Put(MakeImage("i" + std::to_string(i), "1", {"sha256:x"}))) ++failures;
    }
  });
  writers.emplace_back([&] {
    for (int i = 0; i < kPerThread; ++i) {
      if (!jobs_->Add(MakeJob("j" + std::to_string(i)))) ++failures;
    }
  });
  writers.emplace_back([&] {
    for (int i = 0; i < kPerThread; ++i) {
      if (!users_->PutSession({"s" + std::to_string(i), "alice", i, i + 10})) ++failures;
    }
  });
  std::thread reader([&] {
    while (writing) {
      if (!images_->List() || !jobs_->List() || !users_->GetSession("s0")) ++failures;
    }
  });
  for (auto& writer : writers) writer.join();
  writing = false;
  reader.join();

  EXPECT_EQ(failures, 0);
  EXPECT_EQ(images_->List()->size(), size_t{kPerThread});
  EXPECT_EQ(jobs_->List()->size(), size_t{kPerThread});
  EXPECT_TRUE(users_->GetSession("s" + std::to_string(kPerThread - 1))->has_value());
  auto ok = db_->IntegrityOk();
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_TRUE(*ok);
}

}  // namespace
}  // namespace wharf::metadata
