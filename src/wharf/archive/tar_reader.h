// Reading a tar stream as it arrives: a push parser with no I/O of its own. The caller feeds
// the bytes in any split (a request body piece by piece, a decompressor's output); the reader
// tells a TarVisitor about each entry and hands it a file's content in order, in pieces that
// point into the fed bytes. Memory stays bounded whatever the archive's size: a header block,
// and a long name or pax record of at most kTarMaxMetadata bytes.
//
// Reads what GNU tar, Go's archive/tar (docker, podman, skopeo) and bsdtar write: POSIX ustar
// and old-GNU headers; GNU long names and long link targets ('L', 'K'); pax extended headers
// ('x': path, linkpath and size apply to the next entry; 'g' global headers are skipped);
// sizes in octal or in GNU's base-256 form. Every header's checksum is checked (the unsigned
// sum; the signed one of old Sun tars is also accepted).
//
// Errors are InvalidArgument, name the problem and, where there is one, the entry:
//   "not a tar archive: <why>"               the first header is not a tar header
//   "bad tar header checksum at byte N"      a later header, N its offset in the stream
//   "bad tar header at byte N (...)"         a later header without the ustar magic, with a
//                                            bad number, or a zero block followed by more
//   "entry name X is absolute", "entry name X has '..'", "entry name at byte N is empty",
//   "entry name X has a NUL byte"            (X as the archive writes it, a NUL as \0)
//   "... of entry X over 1048576 bytes"      a long name, long link or pax header too large
//   "malformed pax header of entry X"
//   "truncated tar archive (inside entry X)"  from Finish(), the stream ended inside an entry
//                                            (its header, content or padding)
//   "truncated tar archive (no end-of-archive marker)"  from Finish(), inside a header block
//   "not a tar archive: the stream is empty"  from Finish(), nothing was fed (or "N bytes,
//                                            less than a tar header")
// A stream that ends at a header boundary without the two zero blocks that end an archive (or
// after only one) is accepted, as Go's archive/tar does. Bytes after the end-of-archive marker
// are ignored.
// The first error (the reader's or the visitor's, passed through as it is) stops the reader:
// every later Feed() or Finish() returns it again.
// Not thread-safe; one reader per stream. The visitor must outlive the reader.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "wharf/base/status.h"

namespace wharf::archive {

// The longest GNU long name or link, or pax extended header, the reader takes.
inline constexpr int64_t kTarMaxMetadata = 1 << 20;

struct TarItem {
  enum class Type { kFile, kDirectory, kSymlink, kHardlink, kOther };
  // Normalised: leading "./" (repeated) and trailing "/" removed; "." itself becomes "".
  // Never absolute, never with a ".." component, never with a NUL (those are errors). Empty
  // only for the archive's root directory ("./").
  std::string name;
  Type type = Type::kOther;
  int64_t size = 0;  // kFile: bytes of content; 0 for the other types
  std::string link;  // kSymlink/kHardlink: the target as written (not checked)
};

// Told about each entry of the archive in order. Any error stops the reader and is returned
// from the Feed() or Finish() that called it.
class TarVisitor {
 public:
  virtual ~TarVisitor() = default;
  // Every entry, files and others alike (character devices, fifos... are kOther).
  virtual Result<void> Begin(const TarItem& item) = 0;
  // A kFile's content, in order, in pieces (never empty) that are valid only during the call.
  virtual Result<void> Data(std::string_view bytes) = 0;
  // After the last Data() of a kFile (also of an empty one); not called for other types.
  virtual Result<void> End() = 0;
};

class TarReader {
 public:
  explicit TarReader(TarVisitor& visitor);
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // The next bytes of the stream, in any split (empty is fine).
  Result<void> Feed(std::string_view bytes);
  // The stream ended: fails if it ended inside an entry or a header (see above).
  Result<void> Finish();
  // Bytes of the stream taken so far (all fed bytes, also those after the end marker).
  int64_t consumed() const;
  // The end-of-archive marker (two zero blocks) has been read; later bytes are ignored.
  bool ended() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace wharf::archive
