#include "wharf/metadata/image_store.h"

#include <initializer_list>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "wharf/metadata/job_table.h"
#include "wharf/metadata/sqlite_db.h"

namespace wharf::metadata {

namespace {

// Every SELECT of an image puts its `id` in column 0 followed by these columns in this order;
// BindImage and ReadImage rely on it.
constexpr std::string_view kImageColumns =
    "type, name, tag, display_name, manifest_digest, manifest_media_type, manifest_size, "
    "config_digest, architecture, os, size, description, location, icon, extra, created_at";

// Selects one tag of an image, or every tag when ?3 is empty.
constexpr std::string_view kImageFilter = "type = ?1 AND name = ?2 AND (?3 = '' OR tag = ?3)";

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

}  // namespace

// The image statements, and the job statements for the writes that span both kinds. Every
// method expects the Database's lock to be held.
struct ImageStore::Impl : StatementCache {
  Statement upsert_image;
  Statement image_exists;
  Statement delete_blob_edges;
  Statement insert_blob_edge;
  Statement list_images;
  Statement list_blob_edges;
  Statement match_images;
  Statement match_blob_edges;
  Statement delete_images;
  Statement referenced_blobs;
  JobTable jobs;

  Result<void> Prepare(SqliteDb& db) override;

  // Put, and Delete(job_id) in the same transaction unless it is none.
  // True when the image replaced a record of the same (type, name, tag).
  Result<bool> PutImage(SqliteDb& db, const ImageRecord& image, std::optional<int64_t> job_id);
  // Delete, and records *job in the same transaction unless it is null.
  Result<std::vector<ImageRecord>> DeleteImages(SqliteDb& db, const std::string& type,
                                                const std::string& name, const std::string& tag,
                                                const JobRecord* job);
  // The images matching kImageFilter, with their edges; inside the caller's transaction.
  Result<std::vector<ImageRecord>> MatchImages(const std::string& type, const std::string& name,
                                               const std::string& tag);
  // The row and the edges of `image`; inside the caller's write transaction. True when it
  // replaced a row of the same (type, name, tag).
  Result<bool> WriteImage(const ImageRecord& image);
};

Result<void> ImageStore::Impl::Prepare(SqliteDb& db) {
  const std::string image_filter(kImageFilter);
  const std::string list_images_sql = Concat({"SELECT id, ", kImageColumns, " FROM images"});
  const std::string image_order = " ORDER BY display_name, tag";  // BINARY collation: byte-wise
  WHARF_RETURN_IF_ERROR(jobs.Prepare(db));
  return db.PrepareAll({
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
               // A download that carries no description or icon (the CLI's) keeps the
               // catalog's that an earlier one stored.
               "description = CASE excluded.description WHEN '' THEN description "
               "ELSE excluded.description END, location = excluded.location, "
               "icon = CASE excluded.icon WHEN '' THEN icon ELSE excluded.icon END, extra = "
               "excluded.extra, created_at = excluded.created_at "
               "RETURNING id"})},
      {&image_exists, "SELECT 1 FROM images WHERE type = ? AND name = ? AND tag = ?"},
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
  });
}

Result<bool> ImageStore::Impl::WriteImage(const ImageRecord& image) {
  bool replaced = false;
  {
    ScopedReset reset(image_exists);
    image_exists.Bind(image.type, image.name, image.tag);
    WHARF_ASSIGN_OR_RETURN(replaced, image_exists.Step());
  }
  int64_t id = 0;
  {
    ScopedReset reset(upsert_image);
    BindImage(upsert_image, image);
    WHARF_RETURN_IF_ERROR(upsert_image.StepToRow());
    id = upsert_image.Int(0);
  }
  WHARF_RETURN_IF_ERROR(RunWith(delete_blob_edges, id));
  for (const std::string& digest : std::set<std::string>(image.blobs.begin(), image.blobs.end())) {
    WHARF_RETURN_IF_ERROR(RunWith(insert_blob_edge, id, digest));
  }
  return replaced;
}

Result<bool> ImageStore::Impl::PutImage(SqliteDb& db, const ImageRecord& image,
                                        std::optional<int64_t> job_id) {
  if (image.type.empty() || image.name.empty() || image.tag.empty()) {
    return InvalidArgument("image type, name and tag must not be empty");
  }
  Transaction txn(db);
  WHARF_RETURN_IF_ERROR(txn.BeginWrite());
  WHARF_ASSIGN_OR_RETURN(bool replaced, WriteImage(image));
  if (job_id) WHARF_RETURN_IF_ERROR(jobs.Delete(*job_id));
  WHARF_RETURN_IF_ERROR(txn.Commit());
  return replaced;
}

Result<std::vector<ImageRecord>> ImageStore::Impl::MatchImages(const std::string& type,
                                                               const std::string& name,
                                                               const std::string& tag) {
  match_images.Bind(type, name, tag);
  match_blob_edges.Bind(type, name, tag);
  return ReadImagesWithBlobs(match_images, match_blob_edges);
}

Result<std::vector<ImageRecord>> ImageStore::Impl::DeleteImages(SqliteDb& db,
                                                                const std::string& type,
                                                                const std::string& name,
                                                                const std::string& tag,
                                                                const JobRecord* job) {
  Transaction txn(db);
  WHARF_RETURN_IF_ERROR(txn.BeginWrite());
  auto deleted = MatchImages(type, name, tag);
  if (!deleted) return Error(deleted.error());
  if (!deleted->empty()) {
    // The cascade removes the blob edges.
    WHARF_RETURN_IF_ERROR(RunWith(delete_images, type, name, tag));
  }
  if (job != nullptr && job->id == 0) {
    WHARF_RETURN_IF_ERROR(jobs.Add(*job));
  } else if (job != nullptr) {
    WHARF_RETURN_IF_ERROR(jobs.Update(db, *job));
  } else if (deleted->empty()) {
    return deleted;  // nothing changed: no commit needed
  }
  WHARF_RETURN_IF_ERROR(txn.Commit());
  return deleted;
}

ImageStore::ImageStore(Database& db) : db_(db), impl_(std::make_unique<Impl>()) {}

ImageStore::~ImageStore() { db_.Release(impl_); }

Result<void> ImageStore::Put(const ImageRecord& image) {
  return db_.Locked(*impl_, "ImageStore::Put", [&](SqliteDb& db) -> Result<void> {
    WHARF_RETURN_IF_ERROR(impl_->PutImage(db, image, std::nullopt));
    return {};
  });
}

Result<bool> ImageStore::PutAndDeleteJob(const ImageRecord& image, int64_t job_id) {
  return db_.Locked(*impl_, "ImageStore::PutAndDeleteJob",
                    [&](SqliteDb& db) { return impl_->PutImage(db, image, job_id); });
}

Result<std::vector<ImageRecord>> ImageStore::List() {
  return db_.Locked(*impl_, "ImageStore::List",
                    [&](SqliteDb& db) -> Result<std::vector<ImageRecord>> {
                      Transaction txn(db);  // one snapshot for both queries
                      WHARF_RETURN_IF_ERROR(txn.BeginRead());
                      return ReadImagesWithBlobs(impl_->list_images, impl_->list_blob_edges);
                    });
}

Result<std::optional<ImageRecord>> ImageStore::Get(const std::string& type, const std::string& name,
                                                   const std::string& tag) {
  return db_.Locked(*impl_, "ImageStore::Get",
                    [&](SqliteDb& db) -> Result<std::optional<ImageRecord>> {
                      if (tag.empty()) return InvalidArgument("a tag is needed");
                      Transaction txn(db);
                      WHARF_RETURN_IF_ERROR(txn.BeginRead());
                      WHARF_ASSIGN_OR_RETURN(auto images, impl_->MatchImages(type, name, tag));
                      if (images.empty()) return std::nullopt;
                      return std::move(images.front());
                    });
}

Result<std::vector<ImageRecord>> ImageStore::Delete(const std::string& type,
                                                    const std::string& name,
                                                    const std::string& tag) {
  return db_.Locked(*impl_, "ImageStore::Delete", [&](SqliteDb& db) {
    return impl_->DeleteImages(db, type, name, tag, nullptr);
  });
}

Result<std::vector<ImageRecord>> ImageStore::DeleteAndPutJob(const std::string& type,
                                                             const std::string& name,
                                                             const std::string& tag,
                                                             const JobRecord& job) {
  return db_.Locked(*impl_, "ImageStore::DeleteAndPutJob",
                    [&](SqliteDb& db) { return impl_->DeleteImages(db, type, name, tag, &job); });
}

Result<std::set<std::string>> ImageStore::ReferencedBlobs() {
  return db_.Locked(
      *impl_, "ImageStore::ReferencedBlobs", [&](SqliteDb&) -> Result<std::set<std::string>> {
        Statement& query = impl_->referenced_blobs;
        ScopedReset reset(query);
        std::set<std::string> digests;
        WHARF_RETURN_IF_ERROR(query.ForEachRow([&] { digests.insert(query.Text(0)); }));
        return digests;
      });
}

}  // namespace wharf::metadata
