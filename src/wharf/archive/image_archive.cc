#include "wharf/archive/image_archive.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "wharf/archive/tar_header.h"

namespace wharf::archive {

ImageArchive::~ImageArchive() = default;

void ImageArchive::AppendBytes(std::string_view bytes) {
  if (bytes.empty()) return;
  if (pieces_.empty() || pieces_.back().file >= 0) pieces_.push_back({});
  pieces_.back().bytes.append(bytes);
  pieces_.back().size += static_cast<int64_t>(bytes.size());
  size_ += static_cast<int64_t>(bytes.size());
}

Result<void> ImageArchive::AppendEntry(const std::string& name, int64_t size, bool directory) {
  WHARF_ASSIGN_OR_RETURN(auto header,
                         TarHeader(name, size, directory ? TarEntry::kDirectory : TarEntry::kFile));
  AppendBytes(header);
  return {};
}

Result<void> ImageArchive::AppendFile(const ArchiveFile& file) {
  const auto size = static_cast<int64_t>(file.content.size());
  WHARF_RETURN_IF_ERROR(AppendEntry(file.name, size, false));
  AppendBytes(file.content);
  AppendBytes(std::string(static_cast<size_t>(TarPadding(size)), '\0'));
  return {};
}

// The blob's header, its content (read from the file at Read time) and its padding.
Result<void> ImageArchive::AppendBlob(const content::BlobStore& store, const Digest& digest) {
  auto path = store.BlobPath(digest);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return NotFound("blob " + digest.str() + " is not in the store");
    return ErrnoError("open " + path.string(), errno);
  }
  off_t size = ::lseek(fd.get(), 0, SEEK_END);
  if (size < 0) return ErrnoError("lseek " + path.string(), errno);
  WHARF_RETURN_IF_ERROR(AppendEntry(ArchivePath(digest), size, false));
  pieces_.push_back({{}, static_cast<int>(files_.size()), size});
  size_ += size;
  files_.push_back(std::move(fd));
  names_.push_back(digest);
  AppendBytes(std::string(static_cast<size_t>(TarPadding(size)), '\0'));
  return {};
}

Result<std::unique_ptr<ImageArchive>> ImageArchive::Open(const content::BlobStore& store,
                                                         const std::vector<ArchiveImage>& images,
                                                         ArchiveFormat format) {
  if (images.empty()) return InvalidArgument("an image archive needs at least one image");
  std::unique_ptr<ImageArchive> a(new ImageArchive());
  for (const auto& file : MetadataFiles(images, format)) {
    WHARF_RETURN_IF_ERROR(a->AppendFile(file));
  }
  WHARF_RETURN_IF_ERROR(a->AppendEntry("blobs/", 0, true));
  WHARF_RETURN_IF_ERROR(a->AppendEntry("blobs/sha256/", 0, true));
  for (const auto& blob : ArchiveBlobs(images, format)) {
    WHARF_RETURN_IF_ERROR(a->AppendBlob(store, blob));
  }
  a->AppendBytes(std::string(static_cast<size_t>(kTarTrailer), '\0'));
  return a;
}

std::vector<ImageArchive::Part> ImageArchive::Parts() const {
  std::vector<Part> parts;
  parts.reserve(pieces_.size());
  for (const Piece& piece : pieces_) {
    if (piece.file < 0) {
      parts.push_back({piece.bytes, -1, 0, piece.size});
    } else {
      parts.push_back({{}, files_[static_cast<size_t>(piece.file)].get(), 0, piece.size});
    }
  }
  return parts;
}

Result<size_t> ImageArchive::ReadFile(const Piece& piece, char* buf, size_t n) {
  size_t want =
      static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(n), piece.size - piece_offset_));
  for (;;) {
    ssize_t got = ::pread(files_[piece.file].get(), buf, want, piece_offset_);
    if (got > 0) return static_cast<size_t>(got);
    if (got == 0) {
      return DataLoss("blob " + names_[piece.file].str() + " shrank while it was archived (" +
                      std::to_string(piece_offset_) + " of " + std::to_string(piece.size) +
                      " bytes)");
    }
    if (errno != EINTR) return ErrnoError("read blob " + names_[piece.file].str(), errno);
  }
}

Result<size_t> ImageArchive::Read(char* buf, size_t n) {
  if (failed_) return Error(*failed_);
  while (piece_ < pieces_.size() && piece_offset_ == pieces_[piece_].size) {
    ++piece_;
    piece_offset_ = 0;
  }
  if (n == 0 || piece_ == pieces_.size()) return 0;
  const Piece& piece = pieces_[piece_];
  size_t got = 0;
  if (piece.file < 0) {
    got = std::min<size_t>(n, static_cast<size_t>(piece.size - piece_offset_));
    std::memcpy(buf, piece.bytes.data() + piece_offset_, got);
  } else {
    auto read = ReadFile(piece, buf, n);
    if (!read) {
      failed_ = read.error();
      return Error(read.error());
    }
    got = *read;
  }
  piece_offset_ += static_cast<int64_t>(got);
  offset_ += static_cast<int64_t>(got);
  return got;
}

}  // namespace wharf::archive
