// Everything wharf knows about its images, jobs, users and sessions, in one SQLite file
// (WAL mode, foreign keys on, schema versioned by PRAGMA user_version and migrated at Open).
// The blobs themselves live in the content store; this store only names them.
//
// An image is visible once PutImage() returned: it writes the image row, its tag and its
// blob edges in one transaction. Thread-safe (one connection behind a mutex; statements are
// prepared once).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "wharf/base/status.h"

namespace wharf::metadata {

struct ImageRecord {
  std::string type;             // "docker" or "lxc"
  std::string name;             // canonical: "docker.io/library/ubuntu"; LXC: catalog name
  std::string tag;              // "latest", "3.0.2", an LXC build serial...
  std::string display_name;     // as listed: "ubuntu", "lgsd/diamond"
  std::string manifest_digest;  // "sha256:..." (docker); empty for lxc
  std::string manifest_media_type;
  int64_t manifest_size = 0;
  std::string config_digest;    // "sha256:..." (docker); empty for lxc
  std::string architecture;     // "amd64"
  std::string os;               // "linux"
  int64_t size = 0;             // bytes unpacked (sum of uncompressed layers)
  std::string description;      // from the download request or the catalog
  std::string location;
  std::string icon;
  std::string extra;            // free-form JSON owned by the caller (e.g. LXC build info)
  int64_t created_at = 0;       // when wharf stored it (epoch seconds)
  std::vector<std::string> blobs;  // every blob digest the image needs (manifest, config, layers)
};

struct JobRecord {
  int64_t id = 0;
  std::string type;           // "docker" or "lxc"
  std::string name;           // canonical name as in ImageRecord
  std::string tag;
  std::string display_name;
  std::string source;         // depot asked for: "dockerhub", "appcenter", "qnap"
  std::string description;
  std::string location;
  std::string icon;
  std::string state;          // "waiting", "downloading", "failed"
  std::string error;          // for failed jobs
  int64_t created_at = 0;
  int64_t finished_at = 0;    // when it failed
};

struct UserRecord {
  std::string username;
  std::string password_hash;  // libsodium crypto_pwhash_str (argon2id)
  bool is_admin = false;
};

struct SessionRecord {
  std::string id_hash;        // sha256 hex of the session id (the id itself is never stored)
  std::string username;
  int64_t created_at = 0;
  int64_t expires_at = 0;
  bool is_admin = false;      // its user's, read with it by GetSession (not stored here)
};

class MetadataStore {
 public:
  static Result<std::unique_ptr<MetadataStore>> Open(const std::filesystem::path& file);
  ~MetadataStore();

  // Images. (type, name, tag) is unique; PutImage replaces an existing row and its edges.
  Result<void> PutImage(const ImageRecord& image);
  Result<std::vector<ImageRecord>> ListImages();
  Result<std::optional<ImageRecord>> GetImage(const std::string& type, const std::string& name,
                                              const std::string& tag);
  // Deletes every tag of name (tag empty) or one tag; returns what was deleted (maybe empty).
  Result<std::vector<ImageRecord>> DeleteImages(const std::string& type, const std::string& name,
                                                const std::string& tag);
  // The union of all images' blob edges.
  Result<std::set<std::string>> ReferencedBlobs();

  // Jobs. AddJob assigns and returns the id.
  Result<int64_t> AddJob(const JobRecord& job);
  Result<void> UpdateJob(const JobRecord& job);
  Result<void> DeleteJob(int64_t id);
  Result<std::vector<JobRecord>> ListJobs();

  // Users.
  Result<void> PutUser(const UserRecord& user);  // insert or replace
  Result<std::optional<UserRecord>> GetUser(const std::string& username);
  Result<int64_t> CountUsers();
  // Removes a user and their sessions (no error if absent).
  Result<void> DeleteUser(const std::string& username);
  // Ends every session of a user (e.g. after a password change).
  Result<void> DeleteSessionsOf(const std::string& username);

  // Sessions.
  Result<void> PutSession(const SessionRecord& session);
  // The session with its user's is_admin, in one query; none when its user is gone.
  Result<std::optional<SessionRecord>> GetSession(const std::string& id_hash);
  Result<void> DeleteSession(const std::string& id_hash);
  Result<void> DeleteExpiredSessions(int64_t now);

  // PRAGMA integrity_check == "ok".
  Result<bool> IntegrityOk();

 private:
  struct Impl;
  explicit MetadataStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wharf::metadata
