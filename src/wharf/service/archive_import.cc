#include "wharf/service/archive_import.h"

#include <filesystem>

#include "wharf/archive/tar_reader.h"
#include "wharf/content/decompressor.h"
#include "wharf/content/layer_digester.h"

namespace wharf::service {

namespace {

bool IsMetadata(const std::string& name) {
  return name == "manifest.json" || name == "index.json" || name == "oci-layout" ||
         name == "repositories";
}

// The digest a path of an OCI layout names ("blobs/sha256/<hex>"), if it names one.
std::optional<Digest> DigestOfPath(const std::string& path) {
  constexpr std::string_view kPrefix = "blobs/sha256/";
  if (!path.starts_with(kPrefix)) return std::nullopt;
  auto digest = Digest::Parse("sha256:" + path.substr(kPrefix.size()));
  if (!digest) return std::nullopt;
  return *digest;
}

// The archive path a link at `path` leads to: hard links name an archive path, symlinks one
// relative to their directory. "" when it leads out of the archive.
std::string LinkTarget(const std::string& path, const archive::TarItem& item) {
  if (item.link.empty() || item.link.starts_with('/')) return "";
  std::filesystem::path target = item.type == archive::TarItem::Type::kHardlink
                                     ? std::filesystem::path(item.link)
                                     : std::filesystem::path(path).parent_path() / item.link;
  std::filesystem::path normal = target.lexically_normal();
  std::string text = normal.generic_string();
  if (text.empty() || text == "." || text.starts_with("..")) return "";
  if (text.starts_with("./")) text = text.substr(2);
  return text;
}

}  // namespace

struct ArchiveImport::Impl final : archive::TarVisitor {
  content::BlobStore& store;
  pull::BlobPins& pins;
  ArchiveImportOptions options;
  pull::BlobPins::Lease lease;
  StagedArchive staged;
  archive::TarReader tar{*this};
  content::StreamDecompressor decompressor;

  size_t entries = 0;  // files and links so far
  // The entry being read.
  std::string name;
  std::string* metadata = nullptr;          // a metadata file, kept in memory
  std::unique_ptr<content::Upload> upload;  // any other file
  std::unique_ptr<content::LayerDigester> digester;
  std::string head;  // its first bytes until its compression is known
  std::optional<oci::Compression> compression;

  Impl(content::BlobStore& s, pull::BlobPins& p, ArchiveImportOptions o)
      : store(s),
        pins(p),
        options(std::move(o)),
        lease(pins.Pin({})),
        decompressor([this](std::string_view bytes) { return tar.Feed(bytes); },
                     options.max_bytes) {}

  Result<void> Begin(const archive::TarItem& item) override {
    using Type = archive::TarItem::Type;
    name = item.name;
    if (item.type == Type::kFile || item.type == Type::kSymlink || item.type == Type::kHardlink) {
      if (++entries > kMaxArchiveEntries) {
        return InvalidArgument("the archive holds over " + std::to_string(kMaxArchiveEntries) +
                               " files and links; an image archive needs a few per layer");
      }
    }
    if (item.type == Type::kSymlink || item.type == Type::kHardlink) {
      staged.links[item.name] = LinkTarget(item.name, item);
      return {};
    }
    if (item.type != Type::kFile) return {};
    if (IsMetadata(item.name)) {
      if (static_cast<size_t>(item.size) > kMaxArchiveMetadata) {
        return InvalidArgument(item.name + " in the archive is over " +
                               std::to_string(kMaxArchiveMetadata) + " bytes");
      }
      metadata = &staged.metadata[item.name];
      metadata->clear();
      return {};
    }
    WHARF_ASSIGN_OR_RETURN(upload, store.StartUpload());
    digester.reset();
    head.clear();
    compression.reset();
    return {};
  }

  // Decides the entry's compression from its first bytes (or all of them, when short).
  Result<void> Detect(bool last) {
    if (compression || (head.size() < 4 && !last)) return {};
    const auto* b = reinterpret_cast<const unsigned char*>(head.data());
    if (head.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
      compression = oci::Compression::kGzip;
    } else if (head.size() >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) {
      compression = oci::Compression::kZstd;
    } else {
      compression = oci::Compression::kNone;
    }
    if (*compression != oci::Compression::kNone) {
      // Each layer is held to the download bounds (content/unpack_limits.h) as it is read.
      content::UnpackLimits limits = options.unpack;
      if (options.cancelled != nullptr) {
        limits.cancelled = [flag = options.cancelled] { return flag->load(); };
      }
      digester = std::make_unique<content::LayerDigester>(*compression, std::move(limits),
                                                          "layer " + name + " in the archive");
    }
    return Hash(head);
  }
  Result<void> Hash(std::string_view bytes) {
    if (digester == nullptr || bytes.empty()) return {};
    if (auto s = digester->Update(bytes.data(), bytes.size()); !s) {
      if (s.error().code != Code::kDataLoss) return Error(s.error());  // a bomb, a cancel
      // Not a valid layer after all (a file that merely starts like gzip): no diff_id.
      digester.reset();
      compression = oci::Compression::kNone;
    }
    return {};
  }

  Result<void> Data(std::string_view bytes) override {
    if (metadata != nullptr) {
      metadata->append(bytes);
      return {};
    }
    WHARF_RETURN_IF_ERROR(upload->Write(bytes.data(), bytes.size()));
    if (compression) return Hash(bytes);
    const size_t n = std::min(bytes.size(), 4 - head.size());
    head.append(bytes.substr(0, n));
    WHARF_RETURN_IF_ERROR(Detect(false));
    return compression ? Hash(bytes.substr(n)) : Result<void>{};
  }

  Result<void> End() override;
};

Result<void> ArchiveImport::Impl::End() {
  if (metadata != nullptr) {
    metadata = nullptr;
    return {};
  }
  WHARF_RETURN_IF_ERROR(Detect(true));
  std::optional<Digest> named = DigestOfPath(name);
  const int64_t size = upload->size();
  auto committed = upload->Commit(named, [this](const Digest& d) { lease.Add({d.str()}); });
  upload.reset();
  if (!committed) {
    if (committed.error().code == Code::kDataLoss) {
      return InvalidArgument(name + " in the archive does not match its digest");
    }
    return Error(committed.error());
  }
  StagedFile file{.digest = *committed, .size = size, .compression = *compression};
  file.diff_id = file.digest;
  file.uncompressed_size = file.size;
  if (digester != nullptr) {
    if (auto out = digester->Finish()) {
      file.diff_id = out->diff_id;
      file.uncompressed_size = out->uncompressed_size;
    } else {
      file.compression = oci::Compression::kNone;  // truncated: not a layer we can use
    }
    digester.reset();
  }
  staged.files[name] = file;
  return {};
}

ArchiveImport::ArchiveImport(content::BlobStore& store, pull::BlobPins& pins,
                             ArchiveImportOptions options)
    : impl_(std::make_unique<Impl>(store, pins, std::move(options))) {}

ArchiveImport::~ArchiveImport() = default;

Result<void> ArchiveImport::Feed(std::string_view bytes) {
  if (impl_->options.cancelled != nullptr && impl_->options.cancelled->load()) {
    return Cancelled("import cancelled");
  }
  return impl_->decompressor.Feed(bytes);
}

Result<std::vector<metadata::ImageRecord>> ArchiveImport::Finish() {
  WHARF_RETURN_IF_ERROR(impl_->decompressor.Finish());
  WHARF_RETURN_IF_ERROR(impl_->tar.Finish());
  auto& staged = impl_->staged;
  for (const auto& [path, file] : staged.files) staged.by_digest[file.digest] = &file;
  return ArchiveImages(staged, impl_->store, impl_->lease, impl_->options);
}

}  // namespace wharf::service
