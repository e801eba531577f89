#include "wharf/content/layer_digester.h"

#include <isa-l/igzip_lib.h>
#include <zstd.h>

#include <algorithm>
#include <string>

namespace wharf::content {

namespace {

// Output of one decompression step; reused for the whole layer, so Update never allocates.
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

}  // namespace

// One implementation per compression; Update/Finish dispatch on `compression`.
struct LayerDigester::Impl {
  oci::Compression compression;
  Sha256 hash;
  int64_t uncompressed_size = 0;
  int64_t compressed_size = 0;
  // The first error; the stream is unusable afterwards, and every later call repeats it.
  Status failure;
  std::unique_ptr<uint8_t[]> output;

  // gzip: a stream is one or more members back to back (pigz, `cat a.gz b.gz`).
  std::unique_ptr<inflate_state> inflate;
  std::unique_ptr<isal_gzip_header> gzip_header;  // of the current member
  // The input so far ends exactly after a member's trailer: a valid place for the stream to end.
  bool member_complete = false;

  // zstd: libzstd moves across concatenated frames on its own.
  ZSTD_DCtx* zstd = nullptr;
  bool frame_complete = false;  // the last frame ended and all its output was flushed

  explicit Impl(oci::Compression c) : compression(c) {
    if (c == oci::Compression::kNone) return;
    output = std::make_unique<uint8_t[]>(kOutputBufferSize);
    if (c == oci::Compression::kGzip) {
      inflate = std::make_unique<inflate_state>();
      isal_inflate_init(inflate.get());
      inflate->crc_flag = ISAL_GZIP;
      gzip_header = std::make_unique<isal_gzip_header>();
      isal_gzip_header_init(gzip_header.get());
    } else {
      zstd = ZSTD_createDCtx();
    }
  }
  ~Impl() { ZSTD_freeDCtx(zstd); }

  void Consume(size_t n) {
    hash.Update(output.get(), n);
    uncompressed_size += static_cast<int64_t>(n);
  }

  Error Fail(std::string message) {
    failure = Status{Code::kDataLoss, std::move(message)};
    return Error(failure);
  }

  Result<void> InflateGzip(const uint8_t* data, size_t n);
  Result<void> DecompressZstd(const uint8_t* data, size_t n);
};

Result<void> LayerDigester::Impl::InflateGzip(const uint8_t* data, size_t n) {
  inflate_state& s = *inflate;
  s.next_in = const_cast<uint8_t*>(data);  // igzip's API is not const-correct; it only reads
  s.avail_in = static_cast<uint32_t>(n);
  while (true) {
    if (member_complete) {
      if (s.avail_in == 0) return {};
      // More input after a member's trailer: it must be another member (or it is garbage,
      // which the header check reports).
      isal_inflate_reset(&s);  // keeps crc_flag
      isal_gzip_header_init(gzip_header.get());
      member_complete = false;
    }
    if (!s.wrapper_flag) {
      // isal_inflate() could parse the header itself, but it does so with a fresh header
      // struct on every call, which forgets FLG and the header CRC when a header spans two
      // Updates. This struct lives as long as the member.
      int rc = isal_read_gzip_header(&s, gzip_header.get());
      if (rc < 0) return Fail("corrupt gzip stream: " + std::string(IsalErrorName(rc)));
      if (rc != ISAL_DECOMP_OK) {
        if (s.avail_in == 0) return {};  // the header continues in the next Update
        return Fail("gzip header parser stopped with status " + std::to_string(rc));
      }
    }
    uint32_t in_before = s.avail_in;
    s.next_out = output.get();
    s.avail_out = kOutputBufferSize;
    int rc = isal_inflate(&s);
    ClearUpperVectorState();
    size_t produced = kOutputBufferSize - s.avail_out;
    Consume(produced);
    if (rc < 0) return Fail("corrupt gzip stream: " + std::string(IsalErrorName(rc)));
    if (s.block_state == ISAL_BLOCK_FINISH) {
      member_complete = true;
      continue;
    }
    // igzip stops when input runs out or the output buffer fills; only the latter needs
    // another round without new input.
    if (s.avail_out != 0 && s.avail_in == 0) return {};
    if (produced == 0 && s.avail_in == in_before) {
      return Fail("gzip decoder made no progress");  // defensive; would otherwise spin
    }
  }
}

Result<void> LayerDigester::Impl::DecompressZstd(const uint8_t* data, size_t n) {
  ZSTD_inBuffer in{data, n, 0};
  bool output_full = false;
  while (in.pos < in.size || output_full) {
    ZSTD_outBuffer out{output.get(), kOutputBufferSize, 0};
    size_t rc = ZSTD_decompressStream(zstd, &out, &in);
    if (ZSTD_isError(rc)) {
      return Fail("corrupt zstd stream: " + std::string(ZSTD_getErrorName(rc)));
    }
    Consume(out.pos);
    frame_complete = rc == 0;
    output_full = out.pos == out.size;
  }
  return {};
}

LayerDigester::LayerDigester(oci::Compression compression)
    : impl_(std::make_unique<Impl>(compression)) {}

LayerDigester::~LayerDigester() = default;

Result<void> LayerDigester::Update(const void* data, size_t n) {
  Impl& impl = *impl_;
  if (!impl.failure.ok()) return Error(impl.failure);
  if (n == 0) return {};
  impl.compressed_size += static_cast<int64_t>(n);
  const auto* bytes = static_cast<const uint8_t*>(data);
  switch (impl.compression) {
    case oci::Compression::kNone:
      impl.hash.Update(bytes, n);
      impl.uncompressed_size += static_cast<int64_t>(n);
      return {};
    case oci::Compression::kGzip:
      // avail_in is 32-bit.
      while (n > 0) {
        size_t chunk = std::min<size_t>(n, 1u << 30);
        WHARF_RETURN_IF_ERROR(impl.InflateGzip(bytes, chunk));
        bytes += chunk;
        n -= chunk;
      }
      return {};
    case oci::Compression::kZstd:
      return impl.DecompressZstd(bytes, n);
  }
  return Internal("unknown compression");
}

Result<LayerDigester::Output> LayerDigester::Finish() {
  Impl& impl = *impl_;
  if (!impl.failure.ok()) return Error(impl.failure);
  switch (impl.compression) {
    case oci::Compression::kNone:
      break;
    case oci::Compression::kGzip:
      // Update drains all output it can, so an unfinished member here means missing input.
      if (!impl.member_complete) {
        return impl.Fail("truncated gzip stream after " + std::to_string(impl.compressed_size) +
                         " bytes");
      }
      break;
    case oci::Compression::kZstd:
      if (!impl.frame_complete) {
        return impl.Fail("truncated zstd stream after " + std::to_string(impl.compressed_size) +
                         " bytes");
      }
      break;
  }
  return Output{impl.hash.Finish(), impl.uncompressed_size};
}

}  // namespace wharf::content
