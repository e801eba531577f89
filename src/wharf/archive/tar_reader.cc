#include "wharf/archive/tar_reader.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

namespace wharf::archive {

namespace {

constexpr size_t kBlock = 512;

// Offsets and widths of the ustar header fields the reader uses.
constexpr size_t kNameAt = 0, kNameLen = 100;
constexpr size_t kSizeAt = 124, kSizeLen = 12;
constexpr size_t kChecksumAt = 148, kChecksumLen = 8;
constexpr size_t kTypeAt = 156;
constexpr size_t kLinkAt = 157, kLinkLen = 100;
constexpr size_t kMagicAt = 257;
constexpr size_t kPrefixAt = 345, kPrefixLen = 155;
constexpr std::string_view kPosixMagic(
    "ustar\0"
    "00",
    8);
constexpr std::string_view kGnuMagic("ustar  \0", 8);

std::string_view Field(const char* block, size_t at, size_t len) {
  return std::string_view(block + at, strnlen(block + at, len));
}

// A numeric field: octal digits between optional leading spaces and trailing spaces or NULs
// (empty is 0), or GNU's base-256 form (high bit of the first byte set; negative refused).
std::optional<int64_t> ParseNumber(const char* field, size_t len) {
  const auto* u = reinterpret_cast<const unsigned char*>(field);
  if (u[0] & 0x80) {
    if (u[0] == 0xff) return std::nullopt;  // negative
    uint64_t v = u[0] & 0x7f;
    for (size_t i = 1; i < len; ++i) {
      if (v > (std::numeric_limits<uint64_t>::max() >> 8)) return std::nullopt;
      v = v << 8 | u[i];
    }
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(v);
  }
  size_t i = 0;
  while (i < len && field[i] == ' ') ++i;
  uint64_t v = 0;
  for (; i < len && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (v > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) >> 3)) {
      return std::nullopt;
    }
    v = v << 3 | static_cast<uint64_t>(field[i] - '0');
  }
  for (; i < len; ++i) {
    if (field[i] != ' ' && field[i] != '\0') return std::nullopt;
  }
  return static_cast<int64_t>(v);
}

// The checksum is the sum of the header's bytes with its own field taken as spaces; old Sun
// tars summed signed chars.
bool ChecksumMatches(const char* block) {
  std::optional<int64_t> stored = ParseNumber(block + kChecksumAt, kChecksumLen);
  if (!stored || Field(block, kChecksumAt, kChecksumLen).empty()) return false;
  int64_t unsigned_sum = 0, signed_sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    bool in_field = i >= kChecksumAt && i < kChecksumAt + kChecksumLen;
    unsigned char c = in_field ? ' ' : static_cast<unsigned char>(block[i]);
    unsigned_sum += c;
    signed_sum += static_cast<signed char>(c);
  }
  return *stored == unsigned_sum || *stored == signed_sum;
}

bool IsZeroBlock(const char* block) {
  return std::all_of(block, block + kBlock, [](char c) { return c == '\0'; });
}

bool IsHeaderOnly(char type) { return type >= '1' && type <= '6'; }  // links, devices, dirs

TarItem::Type ItemType(char type, std::string_view raw_name) {
  switch (type) {
    case '0':
    case '\0':
    case '7':  // contiguous file: a regular file to every reader but one
      // Before ustar a directory was a "file" whose name ends with a slash.
      return raw_name.ends_with('/') ? TarItem::Type::kDirectory : TarItem::Type::kFile;
    case '1':
      return TarItem::Type::kHardlink;
    case '2':
      return TarItem::Type::kSymlink;
    case '5':
    case 'D':  // GNU dumpdir: a directory with a listing as content
      return TarItem::Type::kDirectory;
    default:
      return TarItem::Type::kOther;
  }
}

// A name for a message: a NUL shows as "\0".
std::string Shown(std::string_view raw) {
  std::string shown;
  for (char c : raw) {
    if (c == '\0') {
      shown += "\\0";
    } else {
      shown += c;
    }
  }
  return shown;
}

// Validates the name as written and returns it normalised (see TarItem::name).
Result<std::string> NormalisedName(std::string_view raw, TarItem::Type type, int64_t at) {
  const std::string shown = Shown(raw);
  if (raw.empty()) return InvalidArgument("entry name at byte " + std::to_string(at) + " is empty");
  if (raw.find('\0') != std::string_view::npos) {
    return InvalidArgument("entry name " + shown + " has a NUL byte");
  }
  if (raw.front() == '/') return InvalidArgument("entry name " + shown + " is absolute");
  for (size_t start = 0; start <= raw.size();) {
    size_t end = std::min(raw.find('/', start), raw.size());
    if (raw.substr(start, end - start) == "..") {
      return InvalidArgument("entry name " + shown + " has '..'");
    }
    start = end + 1;
  }
  while (raw.starts_with("./")) {
    raw.remove_prefix(2);
    while (raw.starts_with('/')) raw.remove_prefix(1);
  }
  while (raw.ends_with('/')) raw.remove_suffix(1);
  if (raw == ".") raw = {};
  if (raw.empty() && type != TarItem::Type::kDirectory) {
    return InvalidArgument("entry name " + shown + " is empty once normalised");
  }
  return std::string(raw);
}

// A pax extended header's records, "LENGTH key=value\n" each; applies the keys the reader
// knows. False if the records do not parse.
struct PaxKeys {
  std::optional<std::string> path, linkpath;
  std::optional<int64_t> size;
};
bool ParsePax(std::string_view records, PaxKeys& keys) {
  while (!records.empty()) {
    size_t space = records.find(' ');
    if (space == std::string_view::npos || space == 0 || space > 19) return false;
    uint64_t len = 0;
    for (char c : records.substr(0, space)) {
      if (c < '0' || c > '9') return false;
      len = len * 10 + static_cast<uint64_t>(c - '0');
    }
    if (len <= space + 1 || len > records.size() || records[len - 1] != '\n') return false;
    std::string_view record = records.substr(space + 1, len - space - 2);
    records.remove_prefix(len);
    size_t eq = record.find('=');
    if (eq == std::string_view::npos || eq == 0) return false;
    std::string_view key = record.substr(0, eq), value = record.substr(eq + 1);
    if (value.empty()) continue;  // an empty value unsets the key: the header's field applies
    if (key == "path") keys.path = std::string(value);
    if (key == "linkpath") keys.linkpath = std::string(value);
    if (key == "size") {
      if (value.size() > 18 || value.find_first_not_of("0123456789") != std::string_view::npos) {
        return false;
      }
      keys.size = std::stoll(std::string(value));
    }
  }
  return true;
}

}  // namespace

struct TarReader::State {
  explicit State(TarVisitor& v) : visitor(v) {}

  // kHeader: filling `block`; kContent: `left` bytes of the entry's content, then `padding`
  // zero bytes (kPadding); kEnded: after the end-of-archive marker.
  enum class Phase { kHeader, kContent, kPadding, kEnded };
  // What the current entry's content is for.
  enum class Content { kFile, kSkip, kLongName, kLongLink, kPax, kGlobalPax };

  TarVisitor& visitor;
  Phase phase = Phase::kHeader;
  int64_t pos = 0;  // bytes of the stream taken
  std::array<char, kBlock> block{};
  size_t block_fill = 0;
  bool seen_header = false;  // a header was read: later bad headers are not "not a tar"
  bool zero_block = false;   // the previous header block was all zeros
  Content content = Content::kSkip;
  int64_t left = 0;
  int64_t padding = 0;
  std::string entry;  // the current entry's name as written, for messages
  std::string meta;   // a long name, long link or pax header as it arrives
  // What long-name and pax entries say of the next entry.
  std::optional<std::string> long_name, long_link;
  PaxKeys pax;
  Status failure;

  Result<void> Take(std::string_view& bytes);
  Result<void> OnHeader();
  Result<void> StartEntry(const char* h, char type, int64_t at);
  Result<void> StartContent(Content kind, int64_t size);
  Result<void> EndContent();
  Error BadHeader(int64_t at, std::string_view why) {
    if (!seen_header) return InvalidArgument("not a tar archive: " + std::string(why));
    return InvalidArgument("bad tar header at byte " + std::to_string(at) + " (" +
                           std::string(why) + ")");
  }
};

// Takes what the current phase can from the front of `bytes`.
Result<void> TarReader::State::Take(std::string_view& bytes) {
  switch (phase) {
    case Phase::kEnded:
      pos += static_cast<int64_t>(bytes.size());
      bytes = {};
      return {};
    case Phase::kHeader: {
      size_t n = std::min(bytes.size(), kBlock - block_fill);
      std::memcpy(block.data() + block_fill, bytes.data(), n);
      block_fill += n;
      bytes.remove_prefix(n);
      pos += static_cast<int64_t>(n);
      if (block_fill < kBlock) return {};
      block_fill = 0;
      return OnHeader();
    }
    case Phase::kContent: {
      size_t n = static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(bytes.size())));
      std::string_view piece = bytes.substr(0, n);
      bytes.remove_prefix(n);
      pos += static_cast<int64_t>(n);
      left -= static_cast<int64_t>(n);
      if (content == Content::kFile) {
        WHARF_RETURN_IF_ERROR(visitor.Data(piece));
      } else if (content != Content::kSkip && content != Content::kGlobalPax) {
        meta.append(piece);
      }
      if (left == 0) return EndContent();
      return {};
    }
    case Phase::kPadding: {
      size_t n =
          static_cast<size_t>(std::min<int64_t>(padding, static_cast<int64_t>(bytes.size())));
      bytes.remove_prefix(n);
      pos += static_cast<int64_t>(n);
      padding -= static_cast<int64_t>(n);
      if (padding == 0) phase = Phase::kHeader;
      return {};
    }
  }
  return Internal("tar reader in an unknown state");
}

Result<void> TarReader::State::OnHeader() {
  const char* h = block.data();
  const int64_t at = pos - static_cast<int64_t>(kBlock);
  if (IsZeroBlock(h)) {
    if (zero_block) phase = Phase::kEnded;
    zero_block = true;
    return {};
  }
  if (zero_block) return BadHeader(at - static_cast<int64_t>(kBlock), "a lone zero block");
  if (!ChecksumMatches(h)) {
    if (!seen_header) return BadHeader(at, "bad header checksum");
    return InvalidArgument("bad tar header checksum at byte " + std::to_string(at));
  }
  std::string_view magic(h + kMagicAt, kPosixMagic.size());
  if (magic != kPosixMagic && magic != kGnuMagic) return BadHeader(at, "no ustar magic");
  seen_header = true;
  entry = std::string(Field(h, kNameAt, kNameLen));
  std::optional<int64_t> size = ParseNumber(h + kSizeAt, kSizeLen);
  if (!size) return BadHeader(at, "bad size of entry " + entry);
  const char type = h[kTypeAt];
  switch (type) {
    case 'L':
      return StartContent(Content::kLongName, *size);
    case 'K':
      return StartContent(Content::kLongLink, *size);
    case 'x':
      return StartContent(Content::kPax, *size);
    case 'g':
      return StartContent(Content::kGlobalPax, *size);
    default:
      return StartEntry(h, type, at);
  }
}

// A header of an entry proper: what the long-name and pax entries before it said wins over
// its own fields.
Result<void> TarReader::State::StartEntry(const char* h, char type, int64_t at) {
  std::string raw;
  if (long_name) {
    raw = *std::move(long_name);
  } else if (pax.path) {
    raw = *std::move(pax.path);
  } else {
    std::string_view prefix;
    if (std::string_view(h + kMagicAt, kPosixMagic.size()) == kPosixMagic) {
      prefix = Field(h, kPrefixAt, kPrefixLen);
    }
    raw = prefix.empty() ? entry : std::string(prefix) + "/" + entry;
  }
  TarItem item;
  item.type = ItemType(type, raw);
  if (item.type == TarItem::Type::kHardlink || item.type == TarItem::Type::kSymlink) {
    item.link = long_link      ? *long_link
                : pax.linkpath ? *pax.linkpath
                               : std::string(Field(h, kLinkAt, kLinkLen));
  }
  int64_t size = pax.size ? *pax.size : *ParseNumber(h + kSizeAt, kSizeLen);
  if (IsHeaderOnly(type)) size = 0;
  long_name.reset();
  long_link.reset();
  pax = {};
  entry = raw;
  WHARF_ASSIGN_OR_RETURN(item.name, NormalisedName(raw, item.type, at));
  const bool file = item.type == TarItem::Type::kFile;
  if (file) item.size = size;
  WHARF_RETURN_IF_ERROR(visitor.Begin(item));
  return StartContent(file ? Content::kFile : Content::kSkip, size);
}

Result<void> TarReader::State::StartContent(Content kind, int64_t size) {
  if (kind != Content::kFile && kind != Content::kSkip && size > kTarMaxMetadata) {
    std::string what = kind == Content::kLongName   ? "long name"
                       : kind == Content::kLongLink ? "long link"
                                                    : "pax header";
    return InvalidArgument("the " + what + " of entry " + entry + " is over " +
                           std::to_string(kTarMaxMetadata) + " bytes");
  }
  content = kind;
  left = size;
  padding = (static_cast<int64_t>(kBlock) - size % static_cast<int64_t>(kBlock)) %
            static_cast<int64_t>(kBlock);
  meta.clear();
  phase = Phase::kContent;
  if (left == 0) return EndContent();
  return {};
}

Result<void> TarReader::State::EndContent() {
  phase = padding > 0 ? Phase::kPadding : Phase::kHeader;
  switch (content) {
    case Content::kFile:
      return visitor.End();
    case Content::kSkip:
    case Content::kGlobalPax:
      return {};
    case Content::kLongName:
    case Content::kLongLink: {
      // GNU ends the name with a NUL (and tar pads the rest of the block with them).
      std::string_view name(meta);
      while (name.ends_with('\0')) name.remove_suffix(1);
      (content == Content::kLongName ? long_name : long_link) = std::string(name);
      return {};
    }
    case Content::kPax:
      if (!ParsePax(meta, pax)) return InvalidArgument("malformed pax header of entry " + entry);
      return {};
  }
  return {};
}

TarReader::TarReader(TarVisitor& visitor) : state_(std::make_unique<State>(visitor)) {}

TarReader::~TarReader() = default;

Result<void> TarReader::Feed(std::string_view bytes) {
  State& s = *state_;
  if (!s.failure.ok()) return Error(s.failure);
  while (!bytes.empty()) {
    if (auto taken = s.Take(bytes); !taken) {
      s.failure = taken.error();
      return taken;
    }
  }
  return {};
}

Result<void> TarReader::Finish() {
  State& s = *state_;
  if (!s.failure.ok()) return Error(s.failure);
  std::optional<std::string> why;
  if (s.pos == 0) {
    s.failure = InvalidArgument("not a tar archive: the stream is empty").error();
  } else if (!s.seen_header && !s.zero_block && s.pos < static_cast<int64_t>(kBlock)) {
    s.failure = InvalidArgument("not a tar archive: " + std::to_string(s.pos) +
                                " bytes, less than a tar header")
                    .error();
  }
  if (s.phase == State::Phase::kContent || s.phase == State::Phase::kPadding) {
    why = "inside entry " + s.entry;
  } else if (s.phase == State::Phase::kHeader && s.block_fill > 0) {
    why = "no end-of-archive marker";
  } else if (s.phase == State::Phase::kHeader &&
             (s.long_name || s.long_link || s.pax.path || s.pax.linkpath || s.pax.size)) {
    why = "inside entry " + s.entry;  // the long name or pax header of an entry that never came
  }
  if (s.failure.ok() && why) {
    s.failure = InvalidArgument("truncated tar archive (" + *why + ")").error();
  }
  if (!s.failure.ok()) return Error(s.failure);
  return {};
}

int64_t TarReader::consumed() const { return state_->pos; }
bool TarReader::ended() const { return state_->phase == State::Phase::kEnded; }

}  // namespace wharf::archive
