#include "wharf/content/decompressor.h"

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "wharf/content/deflate_history.h"

namespace wharf::content {

namespace {

// Output of one decompression step; reused for the whole stream, so Feed never allocates.
constexpr size_t kOutputBufferSize = 256 << 10;

std::string_view IsalErrorName(int rc) {
  switch (rc) {
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid back-reference distance";
    case ISAL_INVALID_WRAPPER:
      return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
      return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM:
      return "CRC or length mismatch";
    case ISAL_NEED_DICT:
      return "stream needs a preset dictionary";
    default:
      return "unknown error";
  }
}

// igzip's AVX-512 and AVX2 kernels return with the upper halves of the vector registers dirty.
// Until a vzeroupper clears them, every SSE-encoded instruction that follows pays a state
// penalty; that includes the SHA-NI instructions OpenSSL hashes with, which then run ~27%
// slower (1.3 instead of 1.8 GB/s per core, measured on the output of each inflate call).
void ClearUpperVectorState() {
#if defined(__x86_64__)
  static const bool has_avx = __builtin_cpu_supports("avx");
  if (has_avx) asm volatile("vzeroupper" ::: "memory");
#endif
}

// zstd's largest window, 2 GiB on 64 bits (ZSTD_WINDOWLOG_MAX, from libzstd's experimental API).
constexpr int kZstdWindowLogMax = sizeof(size_t) == 4 ? 30 : 31;

uint32_t LittleEndian32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

// The magic numbers told apart. bzip2's "BZh" alone could start a plain tar whose first entry
// is so named, hence the level digit and the block (or end-of-stream) magic after it.
enum class Magic { kGzip, kZstd, kZstdSkippable, kXz, kBzip2, kBzip2Empty };
struct MagicBytes {
  Magic magic;
  std::string_view bytes;  // '?' matches any byte (after bzip2's "BZh": the level, checked)
};
constexpr std::array<MagicBytes, 6> kMagics{{
    {Magic::kGzip, "\x1f\x8b"},
    {Magic::kZstd, "\x28\xb5\x2f\xfd"},
    {Magic::kZstdSkippable, "?\x2a\x4d\x18"},  // 0x184d2a50..5f, little-endian
    {Magic::kXz, std::string_view("\xfd"
                                  "7zXZ\0",
                                  6)},
    {Magic::kBzip2, "BZh?1AY&SY"},
    {Magic::kBzip2Empty, "BZh?\x17\x72\x45\x38\x50\x90"},
}};
constexpr size_t kMaxMagic = 10;

bool MatchesByte(Magic magic, uint8_t expected, uint8_t got) {
  if (expected != '?') return expected == got;
  if (magic == Magic::kZstdSkippable) return (got & 0xf0) == 0x50;
  return got >= '1' && got <= '9';  // bzip2's block size level
}

// Whether `head` starts with `m` (full) or is a prefix of it (partial).
enum class Match { kNo, kPartial, kFull };
Match MatchMagic(const MagicBytes& m, std::string_view head) {
  size_t n = std::min(head.size(), m.bytes.size());
  for (size_t i = 0; i < n; ++i) {
    if (!MatchesByte(m.magic, static_cast<uint8_t>(m.bytes[i]), static_cast<uint8_t>(head[i]))) {
      return Match::kNo;
    }
  }
  return n == m.bytes.size() ? Match::kFull : Match::kPartial;
}

}  // namespace

struct StreamDecompressor::Impl {
  Sink sink;
  uint64_t max_output;
  oci::Compression format = oci::Compression::kNone;
  bool detected = false;
  std::array<char, kMaxMagic> head{};  // the first bytes, held until the format is known
  size_t head_len = 0;
  uint64_t input = 0;
  uint64_t output = 0;
  // The first error; the stream is unusable afterwards, and every later call repeats it.
  Status failure;
  std::unique_ptr<uint8_t[]> out;

  // gzip: a stream is one or more members back to back. A member's leading stored blocks
  // (what gzip writes for incompressible data) go to the sink straight from the input; igzip
  // would copy every byte of them to `out` first. From the first compressed block on, igzip
  // inflates the rest of the member, with the history as its dictionary and the CRC and size
  // so far, and checks the trailer.
  // kMemberDone: the input so far ends right after a member's trailer, a valid place for the
  // stream to end.
  enum class Phase { kHeader, kBlockHeader, kStored, kTrailer, kInflate, kMemberDone };
  Phase phase = Phase::kHeader;
  std::unique_ptr<inflate_state> inflate;
  std::unique_ptr<isal_gzip_header> gzip_header;  // of the current member
  std::array<uint8_t, 8> field{};  // a stored block's header or the trailer, as it arrives
  size_t field_len = 0;
  uint32_t stored_left = 0;  // bytes of the current stored block still to come
  bool final_block = false;  // the current stored block is the member's last
  uint32_t member_crc = 0;   // CRC-32 of the member's output so far
  uint32_t member_size = 0;  // its length, modulo 2^32 like the trailer's ISIZE
  std::unique_ptr<DeflateHistory> history;

  // zstd: libzstd moves across concatenated frames on its own.
  ZSTD_DCtx* zstd = nullptr;
  bool frame_complete = false;  // the last frame ended and all its output was flushed

  Impl(Sink s, uint64_t max) : sink(std::move(s)), max_output(max) {}
  ~Impl() { ZSTD_freeDCtx(zstd); }

  Error Fail(std::string message) {
    failure = Status{Code::kInvalidArgument, std::move(message)};
    return Error(failure);
  }
  Error FailIsal(int rc) { return Fail("corrupt gzip stream: " + std::string(IsalErrorName(rc))); }

  void Start(oci::Compression c);
  Result<void> Detect(std::string_view& bytes, bool at_end);
  Result<void> Decode(const uint8_t* data, size_t n);
  Result<void> Emit(const void* data, size_t n);

  Result<void> InflateGzip(const uint8_t* data, size_t n);
  Result<void> GzipStep(const uint8_t*& p, const uint8_t* end);
  Result<void> EmitStored(const uint8_t* data, size_t n);
  Result<void> StartInflate();
  Result<void> RunInflate(const uint8_t*& p, const uint8_t* end);
  Result<void> DecompressZstd(const uint8_t* data, size_t n);
};

void StreamDecompressor::Impl::Start(oci::Compression c) {
  format = c;
  detected = true;
  if (c == oci::Compression::kNone) return;
  out = std::make_unique<uint8_t[]>(kOutputBufferSize);
  if (c == oci::Compression::kGzip) {
    inflate = std::make_unique<inflate_state>();
    isal_inflate_init(inflate.get());  // its crc_flag is set when inflation takes over
    gzip_header = std::make_unique<isal_gzip_header>();
    isal_gzip_header_init(gzip_header.get());
    history = std::make_unique<DeflateHistory>();
  } else {
    zstd = ZSTD_createDCtx();
    // libzstd refuses frames whose window is over 128 MiB unless told (zstd --long=31 and
    // level 22 with a large input make them; zstd(1) needs --long=31 or --memory to decode
    // them): every window the format allows on 64 bits, allocated as a frame needs it.
    ZSTD_DCtx_setParameter(zstd, ZSTD_d_windowLogMax, kZstdWindowLogMax);
  }
}

// Takes bytes from the front of `bytes` into `head` until the format is told (or, `at_end`,
// decides with what there is), then starts the decoder and feeds it the held bytes.
Result<void> StreamDecompressor::Impl::Detect(std::string_view& bytes, bool at_end) {
  size_t take = std::min(bytes.size(), kMaxMagic - head_len);
  std::memcpy(head.data() + head_len, bytes.data(), take);
  head_len += take;
  bytes.remove_prefix(take);
  const std::string_view seen(head.data(), head_len);
  std::optional<Magic> full;
  bool undecided = false;
  for (const MagicBytes& m : kMagics) {
    Match match = MatchMagic(m, seen);
    if (match == Match::kFull && !full) full = m.magic;
    if (match == Match::kPartial) undecided = true;
  }
  if (!full && undecided && !at_end && head_len < kMaxMagic) return {};  // wait for more
  if (full == Magic::kXz || full == Magic::kBzip2 || full == Magic::kBzip2Empty) {
    std::string name = full == Magic::kXz ? "xz" : "bzip2";
    return Fail(name + "-compressed archives are not supported: decompress it first, or use " +
                "gzip or zstd");
  }
  if (full == Magic::kGzip) {
    Start(oci::Compression::kGzip);
  } else if (full == Magic::kZstd || full == Magic::kZstdSkippable) {
    Start(oci::Compression::kZstd);
  } else {
    Start(oci::Compression::kNone);
  }
  return Decode(reinterpret_cast<const uint8_t*>(head.data()), head_len);
}

Result<void> StreamDecompressor::Impl::Decode(const uint8_t* data, size_t n) {
  switch (format) {
    case oci::Compression::kNone:
      return Emit(data, n);
    case oci::Compression::kGzip:
      // avail_in is 32-bit.
      while (n > 0) {
        size_t chunk = std::min<size_t>(n, 1u << 30);
        WHARF_RETURN_IF_ERROR(InflateGzip(data, chunk));
        data += chunk;
        n -= chunk;
      }
      return {};
    case oci::Compression::kZstd:
      return DecompressZstd(data, n);
  }
  return Fail("unknown compression");
}

Result<void> StreamDecompressor::Impl::Emit(const void* data, size_t n) {
  if (n == 0) return {};
  if (n > max_output - output) {
    return Fail("decompressed archive over " + std::to_string(max_output) + " bytes");
  }
  output += n;
  auto sent = sink(std::string_view(static_cast<const char*>(data), n));
  if (!sent) failure = sent.error();
  return sent;
}

Result<void> StreamDecompressor::Impl::InflateGzip(const uint8_t* data, size_t n) {
  const uint8_t* p = data;
  const uint8_t* end = data + n;
  Result<void> result;
  while (result && p != end) {
    result = GzipStep(p, end);
  }
  history->Save();  // the caller's buffer is about to be reused
  return result;
}

// Advances the member by what the input at `p` allows, moving `p` past what it used.
Result<void> StreamDecompressor::Impl::GzipStep(const uint8_t*& p, const uint8_t* end) {
  switch (phase) {
    case Phase::kMemberDone:
      // More input after a member's trailer: it must be another member (or it is garbage,
      // which the header check reports).
      isal_inflate_reset(inflate.get());
      isal_gzip_header_init(gzip_header.get());
      history->Reset();
      member_crc = member_size = 0;
      phase = Phase::kHeader;
      return {};
    case Phase::kHeader: {
      // isal_inflate() could parse the header itself, but it does so with a fresh header
      // struct on every call, which forgets FLG and the header CRC when a header spans two
      // Feeds. This struct lives as long as the member.
      inflate_state& s = *inflate;
      s.next_in = const_cast<uint8_t*>(p);  // igzip's API is not const-correct; it only reads
      s.avail_in = static_cast<uint32_t>(end - p);
      int rc = isal_read_gzip_header(&s, gzip_header.get());
      p = s.next_in;
      if (rc < 0) return FailIsal(rc);
      if (rc != ISAL_DECOMP_OK) {
        if (p == end) return {};  // the header continues in the next Feed
        return Fail("gzip header parser stopped with status " + std::to_string(rc));
      }
      phase = Phase::kBlockHeader;
      return {};
    }
    case Phase::kBlockHeader:
      // A block starts on a byte boundary here (the member's first, or one after a stored
      // block). Its first byte holds BFINAL and BTYPE; a stored block's header continues to
      // the byte boundary, then LEN and its complement NLEN.
      if (field_len == 0 && ((*p >> 1) & 3) != 0) return StartInflate();
      field[field_len++] = *p++;
      if (field_len < 5) return {};
      field_len = 0;
      final_block = (field[0] & 1) != 0;
      stored_left = static_cast<uint32_t>(field[1] | field[2] << 8);
      if (static_cast<uint32_t>(field[3] | field[4] << 8) != (~stored_left & 0xffffu)) {
        return FailIsal(ISAL_INVALID_BLOCK);
      }
      phase = Phase::kStored;
      [[fallthrough]];
    case Phase::kStored: {
      size_t take = std::min<size_t>(stored_left, static_cast<size_t>(end - p));
      WHARF_RETURN_IF_ERROR(EmitStored(p, take));
      p += take;
      stored_left -= static_cast<uint32_t>(take);
      if (stored_left == 0) phase = final_block ? Phase::kTrailer : Phase::kBlockHeader;
      return {};
    }
    case Phase::kTrailer:
      field[field_len++] = *p++;
      if (field_len < 8) return {};
      field_len = 0;
      if (LittleEndian32(field.data()) != member_crc ||
          LittleEndian32(field.data() + 4) != member_size) {
        return FailIsal(ISAL_INCORRECT_CHECKSUM);
      }
      phase = Phase::kMemberDone;
      return {};
    case Phase::kInflate:
      return RunInflate(p, end);
  }
  return Fail("gzip decoder in an unknown state");
}

Result<void> StreamDecompressor::Impl::EmitStored(const uint8_t* data, size_t n) {
  if (n == 0) return {};
  member_crc = crc32_gzip_refl(member_crc, data, n);
  ClearUpperVectorState();  // the CRC runs on wide vector registers
  member_size += static_cast<uint32_t>(n);
  history->Note(data, n);
  return Emit(data, n);
}

// Hands the rest of the member, from the compressed block at the input, to igzip.
Result<void> StreamDecompressor::Impl::StartInflate() {
  inflate_state& s = *inflate;
  isal_inflate_reset(&s);
  s.crc_flag = ISAL_GZIP_NO_HDR_VER;  // raw deflate, then the gzip trailer, checked
  size_t dict = history->CopyTo(out.get());
  if (dict > 0 && isal_inflate_set_dict(&s, out.get(), static_cast<uint32_t>(dict)) != 0) {
    return Fail("gzip decoder refused its dictionary");
  }
  // The trailer covers the whole member: igzip continues the CRC and the count from here.
  // isal_inflate only adds to both. (Older ISA-L decoders bounded back-references by
  // total_out; the build requires 2.30, whose decoder bounds them by its own output.)
  s.crc = member_crc;
  s.total_out = member_size;
  phase = Phase::kInflate;
  return {};
}

Result<void> StreamDecompressor::Impl::RunInflate(const uint8_t*& p, const uint8_t* end) {
  inflate_state& s = *inflate;
  s.next_in = const_cast<uint8_t*>(p);
  s.avail_in = static_cast<uint32_t>(end - p);
  while (true) {
    uint32_t in_before = s.avail_in;
    s.next_out = out.get();
    s.avail_out = kOutputBufferSize;
    int rc = isal_inflate(&s);
    ClearUpperVectorState();
    size_t produced = kOutputBufferSize - s.avail_out;
    p = s.next_in;
    if (rc < 0) return FailIsal(rc);
    WHARF_RETURN_IF_ERROR(Emit(out.get(), produced));
    if (s.block_state == ISAL_BLOCK_FINISH) {  // the trailer was read and matched
      phase = Phase::kMemberDone;
      return {};
    }
    // igzip stops when input runs out or the output buffer fills; only the latter needs
    // another round without new input.
    if (s.avail_out != 0 && s.avail_in == 0) {
      p = end;
      return {};
    }
    if (produced == 0 && s.avail_in == in_before) {
      return Fail("gzip decoder made no progress");  // defensive; would otherwise spin
    }
  }
}

Result<void> StreamDecompressor::Impl::DecompressZstd(const uint8_t* data, size_t n) {
  ZSTD_inBuffer in{data, n, 0};
  bool output_full = false;
  while (in.pos < in.size || output_full) {
    ZSTD_outBuffer o{out.get(), kOutputBufferSize, 0};
    const size_t in_before = in.pos;
    size_t rc = ZSTD_decompressStream(zstd, &o, &in);
    if (ZSTD_isError(rc)) {
      return Fail("corrupt zstd stream: " + std::string(ZSTD_getErrorName(rc)));
    }
    WHARF_RETURN_IF_ERROR(Emit(out.get(), o.pos));
    // A frame whose output ended exactly at the end of the buffer takes one more call, with
    // nothing left to read or write; it then returns the size of the next frame's header,
    // which does not mean the frame is unfinished.
    if (o.pos != 0 || in.pos != in_before) frame_complete = rc == 0;
    output_full = o.pos == o.size;
  }
  return {};
}

StreamDecompressor::StreamDecompressor(Sink sink, uint64_t max_output)
    : impl_(std::make_unique<Impl>(std::move(sink), max_output)) {}

StreamDecompressor::StreamDecompressor(Sink sink, uint64_t max_output, oci::Compression format)
    : StreamDecompressor(std::move(sink), max_output) {
  impl_->Start(format);
}

StreamDecompressor::~StreamDecompressor() = default;

Result<void> StreamDecompressor::Feed(std::string_view bytes) {
  Impl& impl = *impl_;
  if (!impl.failure.ok()) return Error(impl.failure);
  impl.input += bytes.size();
  if (!impl.detected) {
    WHARF_RETURN_IF_ERROR(impl.Detect(bytes, false));
    if (!impl.detected) return {};
  }
  if (bytes.empty()) return {};
  return impl.Decode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

Result<void> StreamDecompressor::Finish() {
  Impl& impl = *impl_;
  if (!impl.failure.ok()) return Error(impl.failure);
  if (!impl.detected) {
    std::string_view none;
    WHARF_RETURN_IF_ERROR(impl.Detect(none, true));
  }
  const std::string after = " stream after " + std::to_string(impl.input) + " bytes";
  switch (impl.format) {
    case oci::Compression::kNone:
      return {};
    case oci::Compression::kGzip:
      // Feed drains all output it can, so an unfinished member here means missing input.
      if (impl.phase != Impl::Phase::kMemberDone) return impl.Fail("truncated gzip" + after);
      return {};
    case oci::Compression::kZstd:
      if (!impl.frame_complete) return impl.Fail("truncated zstd" + after);
      return {};
  }
  return impl.Fail("unknown compression");
}

oci::Compression StreamDecompressor::format() const { return impl_->format; }
bool StreamDecompressor::detected() const { return impl_->detected; }
uint64_t StreamDecompressor::output() const { return impl_->output; }
uint64_t StreamDecompressor::input() const { return impl_->input; }

}  // namespace wharf::content
