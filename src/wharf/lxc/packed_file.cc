#include "wharf/lxc/packed_file.h"

#include <fcntl.h>
#include <lzma.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "wharf/base/unique_fd.h"

namespace wharf::lxc {

namespace {

std::string LzmaMessage(lzma_ret ret) {
  switch (ret) {
    case LZMA_FORMAT_ERROR:
      return "not xz data";
    case LZMA_DATA_ERROR:
      return "corrupt xz data";
    case LZMA_BUF_ERROR:
      return "truncated xz data";
    case LZMA_MEM_ERROR:
      return "out of memory decompressing xz";
    case LZMA_OPTIONS_ERROR:
      return "unsupported xz options";
    case LZMA_MEMLIMIT_ERROR:
      return "xz data needs too much memory";
    default:
      return "xz error " + std::to_string(static_cast<int>(ret));
  }
}

constexpr std::string_view kXzMagic(
    "\xfd"
    "7zXZ\0",
    6);
constexpr std::string_view kZstdMagic("\x28\xb5\x2f\xfd", 4);

bool IsZstdSkippable(std::string_view head) {
  return head.size() >= 4 && (static_cast<uint8_t>(head[0]) & 0xf0) == 0x50 &&
         head.substr(1, 3) == std::string_view("\x2a\x4d\x18", 3);
}

}  // namespace

// Both decoders pull from the file into `in` and decode into `out`; one of `xz`, `zstd` is used.
struct PackedFile::Codec {
  UniqueFd fd;
  std::vector<uint8_t> in = std::vector<uint8_t>(1 << 16);
  std::vector<uint8_t> out = std::vector<uint8_t>(1 << 18);
  size_t in_pos = 0, in_len = 0;
  bool eof = false;
  bool ended = false;            // the data ended where it may (xz: LZMA_STREAM_END)
  bool zstd_frame_done = true;   // zstd: the last frame was complete and flushed
  bool output_was_full = false;  // zstd: the last call filled `out`
  uint64_t read_total = 0, out_total = 0;
  lzma_stream xz = LZMA_STREAM_INIT;
  ZSTD_DCtx* zstd = nullptr;

  ~Codec() {
    lzma_end(&xz);
    ZSTD_freeDCtx(zstd);
  }

  // Refills `in` once it is used up. errno errors.
  Result<void> Fill() {
    if (in_pos < in_len || eof) return {};
    ssize_t n;
    do {
      n = ::read(fd.get(), in.data(), in.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) return ErrnoError("read", errno);
    eof = n == 0;
    in_pos = 0;
    in_len = static_cast<size_t>(n);
    read_total += in_len;
    return {};
  }

  // One piece of output (empty at the end), or "why" it is broken in `why`.
  Result<size_t> NextXz(std::string& why) {
    xz.next_out = out.data();
    xz.avail_out = out.size();
    while (xz.avail_out == out.size() && !ended) {
      WHARF_RETURN_IF_ERROR(Fill());
      xz.next_in = in.data() + in_pos;
      xz.avail_in = in_len - in_pos;
      lzma_ret ret = lzma_code(&xz, eof ? LZMA_FINISH : LZMA_RUN);
      in_pos = in_len - xz.avail_in;
      if (ret == LZMA_STREAM_END) ended = true;
      if (ret != LZMA_OK && ret != LZMA_STREAM_END) {
        why = LzmaMessage(ret);
        return 0;
      }
    }
    return out.size() - xz.avail_out;
  }

  Result<size_t> NextZstd(std::string& why) {
    ZSTD_outBuffer o{out.data(), out.size(), 0};
    while (o.pos == 0) {
      WHARF_RETURN_IF_ERROR(Fill());
      // A full output buffer may leave bytes in libzstd's own: one more call before the end.
      if (in_pos == in_len && eof && !output_was_full) {
        if (!zstd_frame_done) why = "truncated zstd data";
        ended = true;
        return 0;
      }
      ZSTD_inBuffer i{in.data() + in_pos, in_len - in_pos, 0};
      size_t rc = ZSTD_decompressStream(zstd, &o, &i);
      if (ZSTD_isError(rc)) {
        why = std::string("corrupt zstd data: ") + ZSTD_getErrorName(rc);
        return 0;
      }
      in_pos += i.pos;
      if (o.pos != 0 || i.pos != 0) zstd_frame_done = rc == 0;
      output_was_full = o.pos == o.size;
    }
    return o.pos;
  }
};

PackedFile::PackedFile(content::UnpackLimits limits, std::string stem)
    : limits_(std::move(limits)), label_(std::move(stem)) {}

PackedFile::~PackedFile() = default;

Error PackedFile::Fail(Status status) {
  failure_ = std::move(status);
  return Error(failure_);
}

Result<void> PackedFile::Open(const std::filesystem::path& path) {
  codec_ = std::make_unique<Codec>();
  codec_->fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!codec_->fd) return Fail(ErrnoError("open " + path.string(), errno).error());
  WHARF_RETURN_IF_ERROR(codec_->Fill());
  std::string_view head(reinterpret_cast<const char*>(codec_->in.data()), codec_->in_len);
  if (head.starts_with(kZstdMagic) || IsZstdSkippable(head)) {
    format_ = "zstd";
    label_ += ".zst";
    codec_->zstd = ZSTD_createDCtx();
    ZSTD_DCtx_setParameter(codec_->zstd, ZSTD_d_windowLogMax, sizeof(size_t) == 4 ? 30 : 31);
  } else {
    format_ = "xz";
    label_ += ".xz";
    if (!head.starts_with(kXzMagic)) {
      return Fail(DataLoss(label_ + " is broken: neither xz nor zstd data").error());
    }
    lzma_ret ret = lzma_stream_decoder(&codec_->xz, UINT64_MAX, LZMA_CONCATENATED);
    if (ret != LZMA_OK) return Fail(Internal(LzmaMessage(ret)).error());
  }
  meter_.emplace(limits_, label_);
  return {};
}

Result<std::string_view> PackedFile::Read() {
  if (!failure_.ok()) return Error(failure_);
  Codec& c = *codec_;
  if (c.ended) return std::string_view();
  std::string why;
  auto n = format_ == "zstd" ? c.NextZstd(why) : c.NextXz(why);
  if (!n) return Fail(n.error());
  if (!why.empty()) return Fail(DataLoss(label_ + " is broken: " + why).error());
  c.out_total += *n;
  if (auto checked = meter_->Check(c.read_total, c.out_total); !checked) {
    return Fail(checked.error());
  }
  return std::string_view(reinterpret_cast<const char*>(c.out.data()), *n);
}

}  // namespace wharf::lxc
