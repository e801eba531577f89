#include "wharf/metadata/metadata_store.h"

#include <initializer_list>
#include <mutex>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "wharf/metadata/metadata_schema.h"
#include "wharf/metadata/sqlite_db.h"

namespace wharf::metadata {

namespace fs = std::filesystem;

namespace {

// --- Column lists ---
//
// Every SELECT of a record puts `id` (where there is one) in column 0 followed by these
// columns in this order; BindImage/ReadImage and BindJob/ReadJob rely on it.

constexpr std::string_view kImageColumns =
    "type, name, tag, display_name, manifest_digest, manifest_media_type, manifest_size, "
    "config_digest, architecture, os, size, description, location, icon, extra, created_at";

// Selects one tag of an image, or every tag when ?3 is empty.
constexpr std::string_view kImageFilter = "type = ?1 AND name = ?2 AND (?3 = '' OR tag = ?3)";

constexpr std::string_view kJobColumns =
    "type, name, tag, display_name, source, description, location, icon, state, error, "
    "created_at, finished_at";
constexpr int kJobColumnCount = 12;

std::string Concat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) out += part;
  return out;
}

void BindImage(Statement& statement, const ImageRecord& image) {
  statement.Bind(image.type, image.name, image.tag, image.display_name, image.manifest_digest,
                 image.manifest_media_type, image.manifest_size, image.config_digest,
                 image.architecture, image.os, image.size, image.description, image.location,
                 image.icon, image.extra, image.created_at);
}

ImageRecord ReadImage(const Statement& row) {
  ImageRecord image;
  image.type = row.Text(1);
  image.name = row.Text(2);
  image.tag = row.Text(3);
  image.display_name = row.Text(4);
  image.manifest_digest = row.Text(5);
  image.manifest_media_type = row.Text(6);
  image.manifest_size = row.Int(7);
  image.config_digest = row.Text(8);
  image.architecture = row.Text(9);
  image.os = row.Text(10);
  image.size = row.Int(11);
  image.description = row.Text(12);
  image.location = row.Text(13);
  image.icon = row.Text(14);
  image.extra = row.Text(15);
  image.created_at = row.Int(16);
  return image;
}

// Binds every field but the id to parameters 1..kJobColumnCount.
void BindJob(Statement& statement, const JobRecord& job) {
  statement.Bind(job.type, job.name, job.tag, job.display_name, job.source, job.description,
                 job.location, job.icon, job.state, job.error, job.created_at, job.finished_at);
}

JobRecord ReadJob(const Statement& row) {
  JobRecord job;
  job.id = row.Int(0);
  job.type = row.Text(1);
  job.name = row.Text(2);
  job.tag = row.Text(3);
  job.display_name = row.Text(4);
  job.source = row.Text(5);
  job.description = row.Text(6);
  job.location = row.Text(7);
  job.icon = row.Text(8);
  job.state = row.Text(9);
  job.error = row.Text(10);
  job.created_at = row.Int(11);
  job.finished_at = row.Int(12);
  return job;
}

// Steps `images` (rows of "id, kImageColumns") and `edges` (rows of "image_id, digest"), both
// already bound, and attaches each edge to its image. Resets both statements.
Result<std::vector<ImageRecord>> ReadImagesWithBlobs(Statement& images, Statement& edges) {
  ScopedReset reset_images(images);
  ScopedReset reset_edges(edges);
  std::vector<ImageRecord> out;
  std::unordered_map<int64_t, size_t> index_by_id;
  WHARF_RETURN_IF_ERROR(images.ForEachRow([&] {
    index_by_id.emplace(images.Int(0), out.size());
    out.push_back(ReadImage(images));
  }));
  WHARF_RETURN_IF_ERROR(edges.ForEachRow([&] {
    if (auto it = index_by_id.find(edges.Int(0)); it != index_by_id.end()) {
      out[it->second].blobs.push_back(edges.Text(1));
    }
  }));
  return out;
}

// Prefixes an error with the operation that failed.
template <typename T>
Result<T> WithContext(std::string_view operation, Result<T> result) {
  if (!result) {
    result.error().message = "metadata " + std::string(operation) + ": " + result.error().message;
  }
  return result;
}

}  // namespace

// Owns the connection and its cached statements. Every method expects `mu` to be held.
struct MetadataStore::Impl {
  std::mutex mu;
  // Declared before the statements so that they are finalized before the connection closes.
  std::unique_ptr<SqliteDb> db;

  Statement upsert_image;
  Statement delete_blob_edges;
  Statement insert_blob_edge;
  Statement list_images;
  Statement list_blob_edges;
  Statement match_images;
  Statement match_blob_edges;
  Statement delete_images;
  Statement referenced_blobs;
  Statement add_job;
  Statement update_job;
  Statement delete_job;
  Statement list_jobs;
  Statement put_user;
  Statement get_user;
  Statement count_users;
  Statement put_session;
  Statement get_session;
  Statement delete_session;
  Statement delete_user;
  Statement delete_user_sessions;
  Statement delete_expired_sessions;
  Statement integrity_check;

  Result<void> PrepareStatements();

  // Runs fn() under the mutex and names the operation in any error.
  template <typename Fn>
  auto Locked(std::string_view operation, Fn&& fn) {
    std::lock_guard lock(mu);
    return WithContext(operation, fn());
  }

  Result<void> PutImage(const ImageRecord& image);
  Result<std::vector<ImageRecord>> MatchImages(const std::string& type, const std::string& name,
                                               const std::string& tag);
  Result<std::vector<ImageRecord>> DeleteImages(const std::string& type, const std::string& name,
                                                const std::string& tag);
};

Result<void> MetadataStore::Impl::PrepareStatements() {
  const std::string image_columns(kImageColumns);
  const std::string image_filter(kImageFilter);
  const std::string job_columns(kJobColumns);
  const std::string list_images_sql = "SELECT id, " + image_columns + " FROM images";
  const std::string image_order = " ORDER BY display_name, tag";  // BINARY collation: byte-wise
  struct {
    Statement* statement;
    std::string sql;
  } const statements[] = {
      // RETURNING yields the id both for a new row and for the updated one, which keeps its id.
      {&upsert_image,
       Concat({"INSERT INTO images (", kImageColumns,
               ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
               "?, ?, ?, ?, ?) ON CONFLICT (type, name, tag) DO UPDATE SET "
               "display_name = excluded.display_name, "
               "manifest_digest = excluded.manifest_digest, "
               "manifest_media_type = excluded.manifest_media_type, "
               "manifest_size = excluded.manifest_size, config_digest = excluded.config_digest, "
               "architecture = excluded.architecture, os = excluded.os, size = excluded.size, "
               "description = excluded.description, location = excluded.location, "
               "icon = excluded.icon, extra = excluded.extra, created_at = excluded.created_at "
               "RETURNING id"})},
      {&delete_blob_edges, "DELETE FROM image_blobs WHERE image_id = ?"},
      {&insert_blob_edge, "INSERT INTO image_blobs (image_id, digest) VALUES (?, ?)"},
      {&list_images, list_images_sql + image_order},
      {&list_blob_edges, "SELECT image_id, digest FROM image_blobs ORDER BY image_id, digest"},
      {&match_images, list_images_sql + " WHERE " + image_filter + image_order},
      {&match_blob_edges,
       "SELECT b.image_id, b.digest FROM image_blobs AS b JOIN images ON images.id = b.image_id "
       "WHERE " +
           image_filter + " ORDER BY b.image_id, b.digest"},
      {&delete_images, "DELETE FROM images WHERE " + image_filter},
      {&referenced_blobs, "SELECT DISTINCT digest FROM image_blobs"},
      {&add_job, "INSERT INTO jobs (" + job_columns +
                     ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"},
      {&update_job,
       "UPDATE jobs SET (" + job_columns + ") = (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) WHERE id = ?"},
      {&delete_job, "DELETE FROM jobs WHERE id = ?"},
      {&list_jobs, "SELECT id, " + job_columns + " FROM jobs ORDER BY id"},
      // An upsert rather than INSERT OR REPLACE: REPLACE deletes the old row first, and the
      // cascade would silently end the user's sessions.
      {&put_user,
       "INSERT INTO users (username, password_hash, is_admin) VALUES (?, ?, ?) "
       "ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, "
       "is_admin = excluded.is_admin"},
      {&get_user, "SELECT username, password_hash, is_admin FROM users WHERE username = ?"},
      {&count_users, "SELECT count(*) FROM users"},
      {&put_session,
       "INSERT OR REPLACE INTO sessions (id_hash, username, created_at, expires_at) "
       "VALUES (?, ?, ?, ?)"},
      {&get_session,
       "SELECT s.id_hash, s.username, s.created_at, s.expires_at, u.is_admin FROM sessions s "
       "JOIN users u ON u.username = s.username WHERE s.id_hash = ?"},
      {&delete_session, "DELETE FROM sessions WHERE id_hash = ?"},
      {&delete_user, "DELETE FROM users WHERE username = ?"},
      {&delete_user_sessions, "DELETE FROM sessions WHERE username = ?"},
      {&delete_expired_sessions, "DELETE FROM sessions WHERE expires_at <= ?"},
      {&integrity_check, "PRAGMA integrity_check"},
  };
  for (const auto& [statement, sql] : statements) {
    auto prepared = db->Prepare(sql);
    if (!prepared) return Error(prepared.error());
    *statement = std::move(*prepared);
  }
  return {};
}

Result<std::unique_ptr<MetadataStore>> MetadataStore::Open(const fs::path& file) {
  auto opened = [&]() -> Result<std::unique_ptr<Impl>> {
    auto db = OpenMetadataDatabase(file);
    if (!db) return Error(db.error());
    auto impl = std::make_unique<Impl>();
    impl->db = std::move(*db);
    WHARF_RETURN_IF_ERROR(impl->PrepareStatements());
    return impl;
  }();
  if (!opened) {
    return Fail(opened.error().code,
                "open metadata store " + file.string() + ": " + opened.error().message);
  }
  return std::unique_ptr<MetadataStore>(new MetadataStore(std::move(*opened)));
}

MetadataStore::MetadataStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetadataStore::~MetadataStore() = default;

// --- Images ---

Result<void> MetadataStore::Impl::PutImage(const ImageRecord& image) {
  // An empty tag would be unreachable: DeleteImages() reads it as "every tag".
  if (image.type.empty() || image.name.empty() || image.tag.empty()) {
    return InvalidArgument("image type, name and tag must not be empty");
  }
  Transaction txn(*db);
  WHARF_RETURN_IF_ERROR(txn.BeginWrite());
  int64_t id = 0;
  {
    ScopedReset reset(upsert_image);
    BindImage(upsert_image, image);
    WHARF_RETURN_IF_ERROR(upsert_image.StepToRow());
    id = upsert_image.Int(0);
  }
  {
    ScopedReset reset(delete_blob_edges);
    delete_blob_edges.Bind(id);
    WHARF_RETURN_IF_ERROR(delete_blob_edges.Run());
  }
  for (const std::string& digest : std::set<std::string>(image.blobs.begin(), image.blobs.end())) {
    ScopedReset reset(insert_blob_edge);
    insert_blob_edge.Bind(id, digest);
    WHARF_RETURN_IF_ERROR(insert_blob_edge.Run());
  }
  return txn.Commit();
}

Result<std::vector<ImageRecord>> MetadataStore::Impl::MatchImages(const std::string& type,
                                                                  const std::string& name,
                                                                  const std::string& tag) {
  match_images.Bind(type, name, tag);
  match_blob_edges.Bind(type, name, tag);
  return ReadImagesWithBlobs(match_images, match_blob_edges);
}

Result<std::vector<ImageRecord>> MetadataStore::Impl::DeleteImages(const std::string& type,
                                                                   const std::string& name,
                                                                   const std::string& tag) {
  Transaction txn(*db);
  WHARF_RETURN_IF_ERROR(txn.BeginWrite());
  auto deleted = MatchImages(type, name, tag);
  if (!deleted) return Error(deleted.error());
  if (deleted->empty()) return deleted;
  {
    ScopedReset reset(delete_images);
    delete_images.Bind(type, name, tag);  // the cascade removes the blob edges
    WHARF_RETURN_IF_ERROR(delete_images.Run());
  }
  WHARF_RETURN_IF_ERROR(txn.Commit());
  return deleted;
}

Result<void> MetadataStore::PutImage(const ImageRecord& image) {
  return impl_->Locked("PutImage", [&] { return impl_->PutImage(image); });
}

Result<std::vector<ImageRecord>> MetadataStore::ListImages() {
  return impl_->Locked("ListImages", [&]() -> Result<std::vector<ImageRecord>> {
    Transaction txn(*impl_->db);  // one snapshot for both queries
    WHARF_RETURN_IF_ERROR(txn.BeginRead());
    return ReadImagesWithBlobs(impl_->list_images, impl_->list_blob_edges);
  });
}

Result<std::optional<ImageRecord>> MetadataStore::GetImage(const std::string& type,
                                                           const std::string& name,
                                                           const std::string& tag) {
  return impl_->Locked("GetImage", [&]() -> Result<std::optional<ImageRecord>> {
    if (tag.empty()) return InvalidArgument("GetImage needs a tag");
    Transaction txn(*impl_->db);
    WHARF_RETURN_IF_ERROR(txn.BeginRead());
    auto images = impl_->MatchImages(type, name, tag);
    if (!images) return Error(images.error());
    if (images->empty()) return std::nullopt;
    return std::move(images->front());
  });
}

Result<std::vector<ImageRecord>> MetadataStore::DeleteImages(const std::string& type,
                                                             const std::string& name,
                                                             const std::string& tag) {
  return impl_->Locked("DeleteImages", [&] { return impl_->DeleteImages(type, name, tag); });
}

Result<std::set<std::string>> MetadataStore::ReferencedBlobs() {
  return impl_->Locked("ReferencedBlobs", [&]() -> Result<std::set<std::string>> {
    Statement& query = impl_->referenced_blobs;
    ScopedReset reset(query);
    std::set<std::string> digests;
    WHARF_RETURN_IF_ERROR(query.ForEachRow([&] { digests.insert(query.Text(0)); }));
    return digests;
  });
}

// --- Jobs ---

Result<int64_t> MetadataStore::AddJob(const JobRecord& job) {
  return impl_->Locked("AddJob", [&]() -> Result<int64_t> {
    Statement& insert = impl_->add_job;
    ScopedReset reset(insert);
    BindJob(insert, job);
    WHARF_RETURN_IF_ERROR(insert.StepToRow());
    return insert.Int(0);
  });
}

Result<void> MetadataStore::UpdateJob(const JobRecord& job) {
  return impl_->Locked("UpdateJob", [&]() -> Result<void> {
    Statement& update = impl_->update_job;
    ScopedReset reset(update);
    BindJob(update, job);
    update.BindAt(kJobColumnCount + 1, job.id);
    WHARF_RETURN_IF_ERROR(update.Run());
    if (impl_->db->Changes() == 0) return NotFound("no job " + std::to_string(job.id));
    return {};
  });
}

Result<void> MetadataStore::DeleteJob(int64_t id) {
  return impl_->Locked("DeleteJob", [&]() -> Result<void> {
    ScopedReset reset(impl_->delete_job);
    impl_->delete_job.Bind(id);
    return impl_->delete_job.Run();
  });
}

Result<std::vector<JobRecord>> MetadataStore::ListJobs() {
  return impl_->Locked("ListJobs", [&]() -> Result<std::vector<JobRecord>> {
    Statement& query = impl_->list_jobs;
    ScopedReset reset(query);
    std::vector<JobRecord> jobs;
    WHARF_RETURN_IF_ERROR(query.ForEachRow([&] { jobs.push_back(ReadJob(query)); }));
    return jobs;
  });
}

// --- Users ---

Result<void> MetadataStore::PutUser(const UserRecord& user) {
  return impl_->Locked("PutUser", [&]() -> Result<void> {
    ScopedReset reset(impl_->put_user);
    impl_->put_user.Bind(user.username, user.password_hash, int64_t{user.is_admin});
    return impl_->put_user.Run();
  });
}

Result<std::optional<UserRecord>> MetadataStore::GetUser(const std::string& username) {
  return impl_->Locked("GetUser", [&]() -> Result<std::optional<UserRecord>> {
    Statement& query = impl_->get_user;
    ScopedReset reset(query);
    query.Bind(username);
    auto row = query.Step();
    if (!row) return Error(row.error());
    if (!*row) return std::nullopt;
    return UserRecord{query.Text(0), query.Text(1), query.Int(2) != 0};
  });
}

Result<void> MetadataStore::DeleteUser(const std::string& username) {
  WHARF_RETURN_IF_ERROR(DeleteSessionsOf(username));
  return impl_->Locked("DeleteUser", [&]() -> Result<void> {
    ScopedReset reset(impl_->delete_user);
    impl_->delete_user.Bind(username);
    return impl_->delete_user.Run();
  });
}

Result<void> MetadataStore::DeleteSessionsOf(const std::string& username) {
  return impl_->Locked("DeleteSessionsOf", [&]() -> Result<void> {
    ScopedReset reset(impl_->delete_user_sessions);
    impl_->delete_user_sessions.Bind(username);
    return impl_->delete_user_sessions.Run();
  });
}

Result<int64_t> MetadataStore::CountUsers() {
  return impl_->Locked("CountUsers", [&]() -> Result<int64_t> {
    ScopedReset reset(impl_->count_users);
    WHARF_RETURN_IF_ERROR(impl_->count_users.StepToRow());
    return impl_->count_users.Int(0);
  });
}

// --- Sessions ---

Result<void> MetadataStore::PutSession(const SessionRecord& session) {
  return impl_->Locked("PutSession", [&]() -> Result<void> {
    ScopedReset reset(impl_->put_session);
    impl_->put_session.Bind(session.id_hash, session.username, session.created_at,
                            session.expires_at);
    return impl_->put_session.Run();
  });
}

Result<std::optional<SessionRecord>> MetadataStore::GetSession(const std::string& id_hash) {
  return impl_->Locked("GetSession", [&]() -> Result<std::optional<SessionRecord>> {
    Statement& query = impl_->get_session;
    ScopedReset reset(query);
    query.Bind(id_hash);
    auto row = query.Step();
    if (!row) return Error(row.error());
    if (!*row) return std::nullopt;
    return SessionRecord{query.Text(0), query.Text(1), query.Int(2), query.Int(3),
                         query.Int(4) != 0};
  });
}

Result<void> MetadataStore::DeleteSession(const std::string& id_hash) {
  return impl_->Locked("DeleteSession", [&]() -> Result<void> {
    ScopedReset reset(impl_->delete_session);
    impl_->delete_session.Bind(id_hash);
    return impl_->delete_session.Run();
  });
}

Result<void> MetadataStore::DeleteExpiredSessions(int64_t now) {
  return impl_->Locked("DeleteExpiredSessions", [&]() -> Result<void> {
    ScopedReset reset(impl_->delete_expired_sessions);
    impl_->delete_expired_sessions.Bind(now);
    return impl_->delete_expired_sessions.Run();
  });
}

// --- Maintenance ---

Result<bool> MetadataStore::IntegrityOk() {
  return impl_->Locked("IntegrityOk", [&]() -> Result<bool> {
    Statement& check = impl_->integrity_check;
    ScopedReset reset(check);
    std::vector<std::string> problems;
    WHARF_RETURN_IF_ERROR(check.ForEachRow([&] { problems.push_back(check.Text(0)); }));
    return problems.size() == 1 && problems.front() == "ok";
  });
}

}  // namespace wharf::metadata
