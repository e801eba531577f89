// For the metadata module's tests: a database in a temporary directory with its stores,
// records with every field set, and a second connection to look at the file as another
// process would.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "wharf/base/file_util.h"
#include "wharf/metadata/database.h"
#include "wharf/metadata/image_store.h"
#include "wharf/metadata/job_store.h"
#include "wharf/metadata/update_store.h"
#include "wharf/metadata/user_store.h"

namespace wharf::metadata {

// Field-by-field views, so that EXPECT_EQ compares (and prints) whole records.
inline auto Fields(const ImageRecord& r) {
  return std::tie(r.type, r.name, r.tag, r.display_name, r.manifest_digest, r.manifest_media_type,
                  r.manifest_size, r.config_digest, r.architecture, r.os, r.size, r.description,
                  r.location, r.icon, r.extra, r.created_at, r.blobs);
}
inline auto Fields(const JobRecord& r) {
  return std::tie(r.id, r.type, r.name, r.tag, r.display_name, r.source, r.description, r.location,
                  r.icon, r.state, r.error, r.created_at, r.finished_at);
}
inline auto Fields(const UserRecord& r) {
  return std::tie(r.username, r.password_hash, r.is_admin);
}
inline auto Fields(const SessionRecord& r) {
  return std::tie(r.id_hash, r.username, r.created_at, r.expires_at);
}
inline auto Fields(const UpdateRecord& r) {
  return std::tie(r.type, r.name, r.tag, r.local_digest, r.remote_digest, r.update_available,
                  r.checked_at, r.error);
}

// Every field set, with values derived from name and tag so that records differ everywhere.
inline ImageRecord MakeImage(const std::string& name, const std::string& tag,
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

inline JobRecord MakeJob(const std::string& name) {
  return JobRecord{0,         "docker", "docker.io/library/" + name,
                   "latest",  name,     "dockerhub",
                   "desc",    "/loc",   "icon.png",
                   "waiting", "",       1700000000,
                   0};
}

inline std::vector<std::string> TagsOf(const std::vector<ImageRecord>& images) {
  std::vector<std::string> tags;
  for (const auto& image : images) tags.push_back(image.display_name + ":" + image.tag);
  return tags;
}

// Column 0 of the first row of `sql`, run on a separate connection to `file` (the way another
// process would see the database); "" when there is no row.
inline std::string RawQuery(const std::filesystem::path& file, const std::string& sql) {
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

// Runs the ';'-separated statements of `sql` on a separate connection to `file`, creating the
// file if missing (e.g. to build a database as an older wharf left it).
inline void RawExec(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << file;
  } else if (char* error = nullptr;
             sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << error;
    sqlite3_free(error);
  }
  sqlite3_close(db);
}

inline unsigned FileMode(const std::filesystem::path& file) {
  struct stat st {};
  EXPECT_EQ(::stat(file.c_str(), &st), 0) << file;
  return st.st_mode & 0777;
}

// A fresh directory per test; Open() opens its database and its four stores over it.
class MetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("wharf-metadata-" + RandomHex(6));
    path_ = dir_ / "state" / "metadata.db";  // "state" does not exist yet: Open creates it
  }
  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }

  // True once the database and its stores are open.
  bool Open() {
    auto db = Database::Open(path_);
    EXPECT_TRUE(db) << db.error().ToString();
    if (!db) return false;
    db_ = std::move(*db);
    images_ = std::make_unique<ImageStore>(*db_);
    jobs_ = std::make_unique<JobStore>(*db_);
    users_ = std::make_unique<UserStore>(*db_);
    updates_ = std::make_unique<UpdateStore>(*db_);
    return true;
  }
  // The stores first: they must go before their database.
  void Close() {
    images_.reset();
    jobs_.reset();
    users_.reset();
    updates_.reset();
    db_.reset();
  }

  std::filesystem::path dir_;
  std::filesystem::path path_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<ImageStore> images_;
  std::unique_ptr<JobStore> jobs_;
  std::unique_ptr<UserStore> users_;
  std::unique_ptr<UpdateStore> updates_;
};

}  // namespace wharf::metadata
