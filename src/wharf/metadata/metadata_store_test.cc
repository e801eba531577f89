#include "wharf/metadata/metadata_store.h"

#include <unistd.h>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "wharf/base/file_util.h"

namespace wharf::metadata {
namespace {

namespace fs = std::filesystem;

// Field-by-field views, so that EXPECT_EQ compares (and prints) whole records.
auto Fields(const ImageRecord& r) {
  return std::tie(r.type, r.name, r.tag, r.display_name, r.manifest_digest, r.manifest_media_type,
                  r.manifest_size, r.config_digest, r.architecture, r.os, r.size, r.description,
                  r.location, r.icon, r.extra, r.created_at, r.blobs);
}
auto Fields(const JobRecord& r) {
  return std::tie(r.id, r.type, r.name, r.tag, r.display_name, r.source, r.description, r.location,
                  r.icon, r.state, r.error, r.created_at, r.finished_at);
}
auto Fields(const UserRecord& r) { return std::tie(r.username, r.password_hash, r.is_admin); }
auto Fields(const SessionRecord& r) {
  return std::tie(r.id_hash, r.username, r.created_at, r.expires_at);
}

// Every field set, with values derived from name and tag so that records differ everywhere.
ImageRecord MakeImage(const std::string& name, const std::string& tag,
                      std::vector<std::string> blobs) {
  ImageRecord image;
  image.type = "docker";
  image.name = "docker.io/library/" + name;
  image.tag = tag;
  image.display_name = name;
  image.manifest_digest = "sha256:manifest-" + name + "-" + tag;
  image.manifest_media_type = "application/vnd.oci.image.manifest.v1+json";
  image.manifest_size = 1234;
  image.config_digest = "sha256:config-" + name + "-" + tag;
  image.architecture = "amd64";
  image.os = "linux";
  image.size = 987654321;
  image.description = "the " + name + " image";
  image.location = "/containers/" + name;
  image.icon = "https://example.com/" + name + ".png";
  image.extra = R"({"build":"20240101"})";
  image.created_at = 1700000000;
  image.blobs = std::move(blobs);
  return image;
}

JobRecord MakeJob(const std::string& name) {
  return JobRecord{0,         "docker", "docker.io/library/" + name,
                   "latest",  name,     "dockerhub",
                   "desc",    "/loc",   "icon.png",
                   "waiting", "",       1700000000,
                   0};
}

std::vector<std::string> TagsOf(const std::vector<ImageRecord>& images) {
  std::vector<std::string> tags;
  for (const auto& image : images) tags.push_back(image.display_name + ":" + image.tag);
  return tags;
}

// Column 0 of the first row of `sql`, run on a separate connection to `file` (the way another
// process would see the database); "" when there is no row.
std::string RawQuery(const fs::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    } else if (int rc = sqlite3_step(stmt); rc == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) out = reinterpret_cast<const char*>(text);
    } else if (rc != SQLITE_DONE) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    }
    sqlite3_finalize(stmt);
  } else {
    ADD_FAILURE() << "cannot open " << file;
  }
  sqlite3_close(db);
  return out;
}

unsigned FileMode(const fs::path& file) {
  struct stat st {};
  EXPECT_EQ(::stat(file.c_str(), &st), 0) << file;
  return st.st_mode & 0777;
}

class MetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wharf-metadata-" + RandomHex(6));
    path_ = dir_ / "state" / "metadata.db";  // "state" does not exist yet: Open creates it
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<MetadataStore> OpenStore() {
    auto store = MetadataStore::Open(path_);
    EXPECT_TRUE(store) << store.error().ToString();
    return store ? std::move(*store) : nullptr;
  }

  fs::path dir_;
  fs::path path_;
};

TEST_F(MetadataStoreTest, OpenCreatesPrivateWalDatabaseAtSchemaVersion1) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutImage(MakeImage("ubuntu", "latest", {"sha256:a"})));
  EXPECT_EQ(FileMode(path_), 0600u);
  // SQLite copies the database's mode to the WAL, which exists while the store is open.
  ASSERT_TRUE(fs::exists(path_.string() + "-wal"));
  EXPECT_EQ(FileMode(path_.string() + "-wal"), 0600u);
  EXPECT_EQ(RawQuery(path_, "PRAGMA user_version"), "1");
  EXPECT_EQ(RawQuery(path_, "PRAGMA journal_mode"), "wal");
  auto ok = store->IntegrityOk();
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_TRUE(*ok);
}

TEST_F(MetadataStoreTest, ImageRoundTripDeduplicatesAndSortsBlobs) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ImageRecord image = MakeImage("ubuntu", "22.04", {"sha256:c", "sha256:a", "sha256:c"});
  ASSERT_TRUE(store->PutImage(image));

  auto got = store->GetImage(image.type, image.name, image.tag);
  ASSERT_TRUE(got) << got.error().ToString();
  ASSERT_TRUE(got->has_value());
  image.blobs = {"sha256:a", "sha256:c"};
  EXPECT_EQ(Fields(**got), Fields(image));

  auto missing = store->GetImage(image.type, image.name, "23.04");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  auto other_type = store->GetImage("lxc", image.name, image.tag);
  ASSERT_TRUE(other_type);
  EXPECT_FALSE(other_type->has_value());
}

TEST_F(MetadataStoreTest, EmptyTagIsRejected) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto put = store->PutImage(MakeImage("ubuntu", "", {}));
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, Code::kInvalidArgument);
  auto get = store->GetImage("docker", "docker.io/library/ubuntu", "");
  ASSERT_FALSE(get);
  EXPECT_EQ(get.error().code, Code::kInvalidArgument);
}

TEST_F(MetadataStoreTest, PutImageReplacesRowAndEdgesKeepingId) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ImageRecord image = MakeImage("redis", "7", {"sha256:x", "sha256:y"});
  ASSERT_TRUE(store->PutImage(image));
  const std::string id = RawQuery(path_, "SELECT id FROM images");

  image.description = "replaced";
  image.size = 42;
  image.blobs = {"sha256:z", "sha256:y"};
  ASSERT_TRUE(store->PutImage(image));

  auto images = store->ListImages();
  ASSERT_TRUE(images) << images.error().ToString();
  ASSERT_EQ(images->size(), 1u);
  EXPECT_EQ((*images)[0].description, "replaced");
  EXPECT_EQ((*images)[0].size, 42);
  EXPECT_EQ((*images)[0].blobs, (std::vector<std::string>{"sha256:y", "sha256:z"}));
  EXPECT_EQ(RawQuery(path_, "SELECT id FROM images"), id);
  EXPECT_EQ(RawQuery(path_, "SELECT count(*) FROM image_blobs"), "2");
}

TEST_F(MetadataStoreTest, FailedPutImageRollsBackAndStoreStaysUsable) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ImageRecord image = MakeImage("nginx", "1", {"sha256:old"});
  ASSERT_TRUE(store->PutImage(image));
  // Make the second edge insert fail, after the row update and the first edge already ran.
  RawQuery(path_,
           "CREATE TRIGGER poison BEFORE INSERT ON image_blobs WHEN new.digest = 'sha256:poison' "
           "BEGIN SELECT RAISE(ABORT, 'poisoned blob'); END");

  ImageRecord replacement = image;
  replacement.description = "never stored";
  replacement.blobs = {"sha256:new", "sha256:poison"};
  auto put = store->PutImage(replacement);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, Code::kInternal);
  EXPECT_NE(put.error().message.find("PutImage"), std::string::npos) << put.error().message;
  EXPECT_NE(put.error().message.find("poisoned blob"), std::string::npos) << put.error().message;

  // The failed transaction released the write lock at once: another connection can write
  // (with a leaked transaction this would time out as "database is locked").
  RawQuery(path_, "DROP TRIGGER poison");
  auto got = store->GetImage(image.type, image.name, image.tag);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(Fields(**got), Fields(image));
  // And the store's own next write works.
  ASSERT_TRUE(store->PutImage(MakeImage("nginx", "2", {"sha256:new"})));
  auto images = store->ListImages();
  ASSERT_TRUE(images);
  EXPECT_EQ(images->size(), 2u);
}

TEST_F(MetadataStoreTest, ListImagesOrdersByDisplayNameThenTagBytewise) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (const auto& [name, tag] : std::vector<std::pair<std::string, std::string>>{
           {"b", "1"}, {"a", "2"}, {"B", "1"}, {"a", "10"}, {"a", "1"}}) {
    ASSERT_TRUE(store->PutImage(MakeImage(name, tag, {"sha256:" + name + tag})));
  }
  auto images = store->ListImages();
  ASSERT_TRUE(images) << images.error().ToString();
  EXPECT_EQ(TagsOf(*images), (std::vector<std::string>{"B:1", "a:1", "a:10", "a:2", "b:1"}));
  for (const auto& image : *images) {
    EXPECT_EQ(image.blobs, std::vector<std::string>{"sha256:" + image.display_name + image.tag});
  }
}

TEST_F(MetadataStoreTest, DeleteImagesOneTagOrAllTags) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (const char* tag : {"1", "2", "3"}) {
    ASSERT_TRUE(store->PutImage(MakeImage("x", tag, {std::string("sha256:x") + tag})));
  }
  ASSERT_TRUE(store->PutImage(MakeImage("y", "1", {"sha256:y1"})));
  const std::string x = "docker.io/library/x";

  auto one = store->DeleteImages("docker", x, "2");
  ASSERT_TRUE(one) << one.error().ToString();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(Fields((*one)[0]), Fields(MakeImage("x", "2", {"sha256:x2"})));
  auto left = store->ListImages();
  ASSERT_TRUE(left);
  EXPECT_EQ(TagsOf(*left), (std::vector<std::string>{"x:1", "x:3", "y:1"}));

  auto wrong_type = store->DeleteImages("lxc", x, "");
  ASSERT_TRUE(wrong_type);
  EXPECT_TRUE(wrong_type->empty());

  auto all = store->DeleteImages("docker", x, "");
  ASSERT_TRUE(all) << all.error().ToString();
  EXPECT_EQ(TagsOf(*all), (std::vector<std::string>{"x:1", "x:3"}));
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].blobs, std::vector<std::string>{"sha256:x3"});
  left = store->ListImages();
  ASSERT_TRUE(left);
  EXPECT_EQ(TagsOf(*left), std::vector<std::string>{"y:1"});
  EXPECT_EQ(RawQuery(path_, "SELECT count(*) FROM image_blobs"), "1");

  auto again = store->DeleteImages("docker", x, "");
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty());
}

TEST_F(MetadataStoreTest, SharedBlobStaysReferencedUntilLastImageIsGone) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutImage(MakeImage("a", "1", {"sha256:shared", "sha256:a"})));
  ASSERT_TRUE(store->PutImage(MakeImage("b", "1", {"sha256:shared", "sha256:b"})));
  using Set = std::set<std::string>;
  EXPECT_EQ(*store->ReferencedBlobs(), (Set{"sha256:a", "sha256:b", "sha256:shared"}));

  ASSERT_TRUE(store->DeleteImages("docker", "docker.io/library/a", "1"));
  EXPECT_EQ(*store->ReferencedBlobs(), (Set{"sha256:b", "sha256:shared"}));
  ASSERT_TRUE(store->DeleteImages("docker", "docker.io/library/b", ""));
  auto none = store->ReferencedBlobs();
  ASSERT_TRUE(none) << none.error().ToString();
  EXPECT_TRUE(none->empty());
}

TEST_F(MetadataStoreTest, JobsRoundTripUpdateAndDelete) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  JobRecord first = MakeJob("ubuntu");
  JobRecord second = MakeJob("redis");
  auto first_id = store->AddJob(first);
  auto second_id = store->AddJob(second);
  ASSERT_TRUE(first_id && second_id);
  EXPECT_GT(*second_id, *first_id);
  first.id = *first_id;
  second.id = *second_id;

  second.state = "failed";
  second.error = "manifest unknown";
  second.finished_at = 1700000100;
  second.description = "changed";
  second.source = "qnap";
  ASSERT_TRUE(store->UpdateJob(second));

  auto jobs = store->ListJobs();
  ASSERT_TRUE(jobs) << jobs.error().ToString();
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ(Fields((*jobs)[0]), Fields(first));
  EXPECT_EQ(Fields((*jobs)[1]), Fields(second));

  ASSERT_TRUE(store->DeleteJob(second.id));
  jobs = store->ListJobs();
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].id, first.id);
  // Ids are never reused, so a stale id cannot name a newer job.
  auto third_id = store->AddJob(MakeJob("nginx"));
  ASSERT_TRUE(third_id);
  EXPECT_GT(*third_id, second.id);
}

TEST_F(MetadataStoreTest, UpdateJobOnMissingIdIsNotFound) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  JobRecord job = MakeJob("ubuntu");
  job.id = 77;
  auto updated = store->UpdateJob(job);
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, Code::kNotFound);
  auto jobs = store->ListJobs();
  ASSERT_TRUE(jobs);
  EXPECT_TRUE(jobs->empty());
}

TEST_F(MetadataStoreTest, UsersRoundTripAndReplace) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->CountUsers(), 0);
  UserRecord admin{"admin", "$argon2id$v=19$one", true};
  ASSERT_TRUE(store->PutUser(admin));
  ASSERT_TRUE(store->PutSession({"hash-1", "admin", 10, 20}));

  auto got = store->GetUser("admin");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(Fields(**got), Fields(admin));

  UserRecord replaced{"admin", "$argon2id$v=19$two", false};
  ASSERT_TRUE(store->PutUser(replaced));
  got = store->GetUser("admin");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(Fields(**got), Fields(replaced));
  EXPECT_EQ(*store->CountUsers(), 1);
  // Replacing a user updates it in place: its sessions are not cascaded away, and they
  // carry the user's new is_admin.
  auto session = store->GetSession("hash-1");
  ASSERT_TRUE(session);
  ASSERT_TRUE(session->has_value());
  EXPECT_FALSE((*session)->is_admin);
  ASSERT_TRUE(store->PutUser(admin));
  session = store->GetSession("hash-1");
  ASSERT_TRUE(session && session->has_value());
  EXPECT_TRUE((*session)->is_admin);

  auto missing = store->GetUser("nobody");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST_F(MetadataStoreTest, SessionsRoundTripAndExpire) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutUser({"alice", "hash", false}));
  SessionRecord early{"early", "alice", 50, 100};
  SessionRecord late{"late", "alice", 60, 200};
  ASSERT_TRUE(store->PutSession(early));
  ASSERT_TRUE(store->PutSession(late));
  auto got = store->GetSession("late");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(Fields(**got), Fields(late));

  ASSERT_TRUE(store->DeleteExpiredSessions(99));
  EXPECT_TRUE(store->GetSession("early")->has_value());
  ASSERT_TRUE(store->DeleteExpiredSessions(100));  // expires_at == now counts as expired
  EXPECT_FALSE(store->GetSession("early")->has_value());
  EXPECT_TRUE(store->GetSession("late")->has_value());

  ASSERT_TRUE(store->DeleteSession("late"));
  EXPECT_FALSE(store->GetSession("late")->has_value());
  ASSERT_TRUE(store->DeleteSession("late"));  // deleting twice is fine
}

TEST_F(MetadataStoreTest, SessionForUnknownUserFailsWithOperationName) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto put = store->PutSession({"hash", "ghost", 1, 2});
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, Code::kInternal);
  EXPECT_NE(put.error().message.find("PutSession"), std::string::npos) << put.error().message;
  EXPECT_NE(put.error().message.find("FOREIGN KEY"), std::string::npos) << put.error().message;
}

TEST_F(MetadataStoreTest, EverythingPersistsAcrossReopen) {
  ImageRecord image = MakeImage("alpine", "3.19", {"sha256:m", "sha256:c", "sha256:l"});
  JobRecord job = MakeJob("busybox");
  UserRecord user{"admin", "secret-hash", true};
  SessionRecord session{"sid", "admin", 5, 500};
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->PutImage(image));
    auto id = store->AddJob(job);
    ASSERT_TRUE(id);
    job.id = *id;
    ASSERT_TRUE(store->PutUser(user));
    ASSERT_TRUE(store->PutSession(session));
  }
  // Closing the last connection checkpoints the WAL into the database file itself.
  EXPECT_GT(fs::file_size(path_), 0u);
  EXPECT_FALSE(fs::exists(path_.string() + "-wal"));
  EXPECT_EQ(RawQuery(path_, "SELECT display_name FROM images"), "alpine");

  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto images = store->ListImages();
  ASSERT_TRUE(images);
  ASSERT_EQ(images->size(), 1u);
  image.blobs = {"sha256:c", "sha256:l", "sha256:m"};
  EXPECT_EQ(Fields((*images)[0]), Fields(image));
  auto jobs = store->ListJobs();
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ(Fields((*jobs)[0]), Fields(job));
  auto got_user = store->GetUser("admin");
  ASSERT_TRUE(got_user && got_user->has_value());
  EXPECT_EQ(Fields(**got_user), Fields(user));
  auto got_session = store->GetSession("sid");
  ASSERT_TRUE(got_session && got_session->has_value());
  EXPECT_EQ(Fields(**got_session), Fields(session));
  EXPECT_EQ(RawQuery(path_, "PRAGMA user_version"), "1");
}

TEST_F(MetadataStoreTest, OpenRejectsGarbageFileNamingItAndLeavesItAlone) {
  ASSERT_TRUE(MakeDirs(path_.parent_path()));
  const std::string garbage = "this is not an SQLite database\n" + std::string(5000, '\x7f');
  ASSERT_TRUE(WriteFileAtomic(path_, garbage));

  auto store = MetadataStore::Open(path_);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find(path_.string()), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().message.find("not a database"), std::string::npos)
      << store.error().message;
  EXPECT_EQ(*ReadFile(path_), garbage);
}

TEST_F(MetadataStoreTest, OpenRejectsNewerSchema) {
  { ASSERT_NE(OpenStore(), nullptr); }
  RawQuery(path_, "PRAGMA user_version = 99");
  auto store = MetadataStore::Open(path_);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("newer"), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().message.find(path_.string()), std::string::npos);
}

TEST_F(MetadataStoreTest, ConcurrentPutImageFromEightThreads) {
  constexpr int kThreads = 8;
  constexpr int kImagesPerThread = 50;
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::atomic<int> failures = 0;
  std::atomic<bool> writing = true;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kImagesPerThread; ++i) {
        std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (!store->PutImage(MakeImage(name, "latest", {"sha256:shared", "sha256:" + name}))) {
          ++failures;
        }
      }
    });
  }
  // Reads interleave with the writes on the same connection.
  std::thread reader([&] {
    while (writing) {
      if (!store->ListImages()) ++failures;
    }
  });
  for (auto& writer : writers) writer.join();
  writing = false;
  reader.join();

  EXPECT_EQ(failures, 0);
  auto images = store->ListImages();
  ASSERT_TRUE(images) << images.error().ToString();
  EXPECT_EQ(images->size(), size_t{kThreads * kImagesPerThread});
  for (const auto& image : *images) ASSERT_EQ(image.blobs.size(), 2u) << image.display_name;
  auto blobs = store->ReferencedBlobs();
  ASSERT_TRUE(blobs);
  EXPECT_EQ(blobs->size(), size_t{kThreads * kImagesPerThread + 1});
  auto ok = store->IntegrityOk();
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_TRUE(*ok);
}

TEST(MetadataUserDeleteTest, DeleteUserEndsTheirSessions) {
  auto dir = std::filesystem::temp_directory_path() / ("wharf-meta-del-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    auto store = MetadataStore::Open(dir / "wharf.db");
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->PutUser({"bob", "hash", false}));
    ASSERT_TRUE((*store)->PutUser({"eve", "hash", false}));
    ASSERT_TRUE((*store)->PutSession({"s1", "bob", 1, 100}));
    ASSERT_TRUE((*store)->PutSession({"s2", "eve", 1, 100}));
    ASSERT_TRUE((*store)->DeleteSessionsOf("eve"));
    EXPECT_FALSE(*(*store)->GetSession("s2"));
    EXPECT_TRUE(*(*store)->GetUser("eve"));
    ASSERT_TRUE((*store)->DeleteUser("bob"));
    EXPECT_FALSE(*(*store)->GetUser("bob"));
    EXPECT_FALSE(*(*store)->GetSession("s1"));
    EXPECT_EQ(*(*store)->CountUsers(), 1);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace wharf::metadata
