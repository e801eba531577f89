#include "wharf/content/decompressor.h"

#include <gtest/gtest.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader, to check the frames made
#include <zstd.h>

#include <limits>
#include <random>
#include <string>
#include <vector>

#include "wharf/content/gzip_test_util.h"

namespace wharf::content {
namespace {

using oci::Compression;

constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();

// Text with random runs in it: compressible and not, longer than deflate's window and than
// the decompressor's output buffer when `size` is.
std::string MixedBytes(size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out;
  while (out.size() < size) {
    out += "etc/ssl/certs/ca-" + std::to_string(out.size() % 1013) + ".pem\n";
    if (rng() % 8 == 0) {
      for (int i = 0; i < 700; ++i) out.push_back(static_cast<char>(rng()));
    }
  }
  out.resize(size);
  return out;
}

// With `checksum`, each frame ends with a checksum of its content (zstd's default has none,
// which leaves some corruption of literals undetectable).
std::string Zstd(std::string_view data, int level = 3, bool checksum = false) {
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, checksum ? 1 : 0);
  std::string out(ZSTD_compressBound(data.size()), '\0');
  out.resize(ZSTD_compress2(cctx.get(), out.data(), out.size(), data.data(), data.size()));
  return out;
}

struct Decoded {
  Result<void> result;
  std::string output;
  Compression format = Compression::kNone;
};

// Feeds `input` in pieces of `piece` bytes (0: whole), then finishes; the first error wins.
Decoded Decode(std::string_view input, size_t piece, uint64_t max_output = kNoLimit,
               std::optional<Compression> forced = std::nullopt) {
  Decoded d;
  auto sink = [&d](std::string_view bytes) -> Result<void> {
    EXPECT_FALSE(bytes.empty());
    d.output.append(bytes);
    return {};
  };
  auto decompressor = forced ? std::make_unique<StreamDecompressor>(sink, max_output, *forced)
                             : std::make_unique<StreamDecompressor>(sink, max_output);
  if (piece == 0) piece = std::max<size_t>(input.size(), 1);
  for (size_t at = 0; at < input.size() && d.result; at += piece) {
    d.result = decompressor->Feed(input.substr(at, piece));
  }
  if (d.result) d.result = decompressor->Finish();
  d.format = decompressor->format();
  EXPECT_EQ(decompressor->output(), d.output.size());
  if (d.result) {
    EXPECT_EQ(decompressor->input(), input.size());
  }
  return d;
}

void ExpectRoundTrip(std::string_view compressed, std::string_view plain, Compression format,
                     const std::vector<size_t>& pieces) {
  for (size_t piece : pieces) {
    Decoded d = Decode(compressed, piece);
    ASSERT_TRUE(d.result) << "piece " << piece << ": " << d.result.error().ToString();
    EXPECT_EQ(d.format, format) << "piece " << piece;
    ASSERT_EQ(d.output.size(), plain.size()) << "piece " << piece;
    EXPECT_TRUE(d.output == plain) << "piece " << piece;
  }
}

void ExpectInvalid(std::string_view input, std::string_view message, size_t piece = 0,
                   uint64_t max_output = kNoLimit) {
  Decoded d = Decode(input, piece, max_output);
  ASSERT_FALSE(d.result) << "accepted; piece " << piece;
  EXPECT_EQ(d.result.error().code, Code::kInvalidArgument) << d.result.error().ToString();
  EXPECT_NE(d.result.error().message.find(message), std::string::npos)
      << d.result.error().message << " (piece " << piece << ")";
}

std::vector<size_t> EveryPieceSize(size_t up_to) {
  std::vector<size_t> pieces;
  for (size_t p = 1; p <= up_to; ++p) pieces.push_back(p);
  for (size_t p : {509, 4096, 65536, 300000}) pieces.push_back(p);
  pieces.push_back(0);
  return pieces;
}

TEST(StreamDecompressorTest, GzipRoundTripInEveryPieceSize) {
  const std::string plain = MixedBytes(40000, 1);
  for (int level : {0, 1, 6, 9}) {
    SCOPED_TRACE("level " + std::to_string(level));
    ExpectRoundTrip(Gzip(plain, level), plain, Compression::kGzip, EveryPieceSize(64));
  }
  ExpectRoundTrip(Gzip(plain, 6, "named.tar"), plain, Compression::kGzip, EveryPieceSize(40));
}

TEST(StreamDecompressorTest, LargeGzipAndZstd) {
  const std::string plain = MixedBytes(3 << 20, 2);
  ExpectRoundTrip(Gzip(plain, 1), plain, Compression::kGzip, {1000, 65536, 1 << 20, 0});
  ExpectRoundTrip(Gzip(plain, 0), plain, Compression::kGzip, {1000, 65536, 0});
  ExpectRoundTrip(Zstd(plain), plain, Compression::kZstd, {1000, 65536, 1 << 20, 0});
}

// The output buffer is 256 KiB: frames whose content ends exactly at its end once made the
// stream look unfinished (a tar is a multiple of 512 bytes, so that is no rare size).
TEST(StreamDecompressorTest, OutputEndingAtABufferBoundary) {
  for (size_t size : {256u << 10, 512u << 10, 1u << 20}) {
    const std::string plain = MixedBytes(size, 10);
    SCOPED_TRACE("size " + std::to_string(size));
    ExpectRoundTrip(Zstd(plain), plain, Compression::kZstd, {4096, 1 << 20, 0});
    ExpectRoundTrip(Zstd(plain) + Zstd(plain), plain + plain, Compression::kZstd, {4096, 0});
    ExpectRoundTrip(Gzip(plain, 6), plain, Compression::kGzip, {4096, 1 << 20, 0});
  }
}

// zstd as a pipe or a streaming encoder writes it: the frame has no content size, so libzstd
// cannot finish it in the call that hands out its last bytes. When those fill the output
// buffer exactly (any multiple of 256 KiB: 10 GiB of a tar), the frame ends in one more call
// that reads and writes nothing and returns the size of the next frame's header. Taking that
// for an unfinished frame was "truncated zstd stream after N bytes" on valid layers.
std::string ZstdStreamed(std::string_view data, int window_log = 0, int level = 3) {
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
  if (window_log != 0) {
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_windowLog, window_log);
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_enableLongDistanceMatching, 1);
  }
  std::string out;
  std::string buffer(1 << 16, '\0');
  // The input goes in with ZSTD_e_continue first: a first call with ZSTD_e_end would let
  // libzstd see the whole input and write its size into the header.
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  for (ZSTD_EndDirective mode : {ZSTD_e_continue, ZSTD_e_end}) {
    for (size_t left = 1; mode == ZSTD_e_end ? left != 0 : in.pos < in.size;) {
      ZSTD_outBuffer o{buffer.data(), buffer.size(), 0};
      left = ZSTD_compressStream2(cctx.get(), &o, &in, mode);
      EXPECT_FALSE(ZSTD_isError(left)) << ZSTD_getErrorName(left);
      out.append(buffer.data(), o.pos);
    }
  }
  return out;
}

TEST(StreamDecompressorTest, FramesWithoutContentSizeEndingAtABufferBoundary) {
  for (size_t size : {256u << 10, 1u << 20, 8u << 20}) {
    SCOPED_TRACE("size " + std::to_string(size));
    const std::string zeros(size, '\0');
    const std::string zst = ZstdStreamed(zeros, 0, 19);
    ASSERT_EQ(ZSTD_getFrameContentSize(zst.data(), zst.size()), ZSTD_CONTENTSIZE_UNKNOWN);
    ExpectRoundTrip(zst, zeros, Compression::kZstd, {1, 4096, 0});
    const std::string mixed = MixedBytes(size, 11);
    ExpectRoundTrip(ZstdStreamed(mixed) + ZstdStreamed(mixed), mixed + mixed, Compression::kZstd,
                    {4096, 0});
  }
}

// Frames whose window is over libzstd's default 128 MiB limit (zstd --long=31 on a pipe, or
// level 22 on a large input): one made by libzstd with a 256 MiB window, and one whose header
// asks for 2 GiB, the most the format allows on 64 bits (a raw block after it).
TEST(StreamDecompressorTest, LargeWindows) {
  const std::string plain = MixedBytes(1 << 20, 12);
  const std::string long28 = ZstdStreamed(plain, 28);
  ZSTD_frameHeader header;
  ASSERT_EQ(ZSTD_getFrameHeader(&header, long28.data(), long28.size()), 0u);
  ASSERT_EQ(header.windowSize, uint64_t{1} << 28);
  ExpectRoundTrip(long28, plain, Compression::kZstd, {4096, 0});

  // magic, FHD 0 (no content size, no checksum), window descriptor 2^(10 + 21), then one last
  // raw block of 5 bytes: block header = size << 3 | raw << 1 | last.
  const std::string huge =
      std::string("\x28\xb5\x2f\xfd\x00\xa8", 6) + std::string("\x29\x00\x00", 3) + "hello";
  ASSERT_EQ(ZSTD_getFrameHeader(&header, huge.data(), huge.size()), 0u);
  ASSERT_EQ(header.windowSize, uint64_t{1} << 31);
  ExpectRoundTrip(huge, "hello", Compression::kZstd, {1, 0});
}

TEST(StreamDecompressorTest, ZstdRoundTripInEveryPieceSize) {
  const std::string plain = MixedBytes(40000, 3);
  for (int level : {1, 3, 19}) {
    SCOPED_TRACE("level " + std::to_string(level));
    ExpectRoundTrip(Zstd(plain, level), plain, Compression::kZstd, EveryPieceSize(64));
  }
}

TEST(StreamDecompressorTest, ConcatenatedMembersAndFrames) {
  const std::string a = MixedBytes(70000, 4), b = MixedBytes(5000, 5);
  ExpectRoundTrip(Gzip(a, 6) + Gzip(b, 0) + Gzip("", 6) + Gzip(a, 1), a + b + a, Compression::kGzip,
                  {1, 7, 512, 0});
  ExpectRoundTrip(Zstd(a) + Zstd(b, 1) + Zstd(a, 5), a + b + a, Compression::kZstd, {1, 7, 512, 0});
  // A skippable frame (magic 0x184d2a5?, a length, that many bytes) before the data.
  const std::string skippable = std::string("\x53\x2a\x4d\x18\x04\0\0\0skip", 12);
  ExpectRoundTrip(skippable + Zstd(b), b, Compression::kZstd, {1, 3, 0});
}

TEST(StreamDecompressorTest, PlainPassesThrough) {
  const std::string tar = std::string("layer.tar") + std::string(503, '\0') + MixedBytes(2000, 6);
  ExpectRoundTrip(tar, tar, Compression::kNone, EveryPieceSize(20));
  ExpectRoundTrip("", "", Compression::kNone, {0});
  // Prefixes of a magic number that turn out to be something else, also when the stream
  // ends before the format is clear.
  for (std::string plain :
       {"BZh", "BZh9", "BZh0data", "BZh91AY&S!", "\x1f", "\x1f\x8c", "\x28\xb5\x2f",
        "\xfd"
        "7zX",
        "Zstd"}) {
    ExpectRoundTrip(plain, plain, Compression::kNone, {1, 0});
    ExpectRoundTrip(plain + " and more", plain + " and more", Compression::kNone, {1, 2, 0});
  }
}

TEST(StreamDecompressorTest, FormatIsKnownAfterTheFirstBytes) {
  std::string sunk;
  StreamDecompressor d(
      [&](std::string_view b) -> Result<void> {
        sunk.append(b);
        return {};
      },
      kNoLimit);
  EXPECT_FALSE(d.detected());
  ASSERT_TRUE(d.Feed("\x1f"));
  EXPECT_FALSE(d.detected());
  const std::string gz = Gzip("hello", 6);
  ASSERT_TRUE(d.Feed(std::string_view(gz).substr(1, 1)));
  EXPECT_TRUE(d.detected());
  EXPECT_EQ(d.format(), Compression::kGzip);
  ASSERT_TRUE(d.Feed(std::string_view(gz).substr(2)));
  ASSERT_TRUE(d.Finish());
  EXPECT_EQ(sunk, "hello");
}

TEST(StreamDecompressorTest, XzAndBzip2AreRefusedByName) {
  const std::string xz = std::string(
      "\xfd"
      "7zXZ\0\0\x04\xe6\xd6\xb4\x46",
      12);
  const std::string bzip2 = "BZh91AY&SY\x12\x34";
  const std::string empty_bzip2 = "BZh9\x17\x72\x45\x38\x50\x90\0\0\0\0";
  for (size_t piece : {1, 3, 0}) {
    ExpectInvalid(xz,
                  "xz-compressed archives are not supported: decompress it first, or use "
                  "gzip or zstd",
                  piece);
    ExpectInvalid(bzip2, "bzip2-compressed archives are not supported", piece);
    ExpectInvalid(empty_bzip2, "bzip2-compressed archives are not supported", piece);
  }
}

TEST(StreamDecompressorTest, Truncated) {
  const std::string plain = MixedBytes(20000, 7);
  const std::string gz = Gzip(plain, 6), zst = Zstd(plain);
  for (size_t cut : {2, 5, 12, 100}) {
    ExpectInvalid(gz.substr(0, cut), "truncated gzip stream after " + std::to_string(cut));
  }
  for (size_t cut : {4, 5, 12, 100}) {  // fewer than 4 bytes are not yet zstd's magic
    ExpectInvalid(zst.substr(0, cut), "truncated zstd stream after " + std::to_string(cut));
  }
  ExpectInvalid(gz.substr(0, gz.size() - 1), "truncated gzip stream", 1);     // in the trailer
  ExpectInvalid(Gzip(plain, 0).substr(0, 3000), "truncated gzip stream", 7);  // stored block
  ExpectInvalid(zst.substr(0, zst.size() - 1), "truncated zstd stream", 1);
  ExpectInvalid(gz + gz.substr(0, 30), "truncated gzip stream");  // the second member
  ExpectInvalid(zst + zst.substr(0, 30), "truncated zstd stream");
  // Told the format, an empty stream is a truncated one.
  Decoded d = Decode("", 0, kNoLimit, Compression::kGzip);
  ASSERT_FALSE(d.result);
  EXPECT_EQ(d.result.error().message, "truncated gzip stream after 0 bytes");
  d = Decode("", 0, kNoLimit, Compression::kZstd);
  ASSERT_FALSE(d.result);
  EXPECT_EQ(d.result.error().message, "truncated zstd stream after 0 bytes");
}

TEST(StreamDecompressorTest, Corrupt) {
  const std::string plain = MixedBytes(20000, 8);
  const std::string gz = Gzip(plain, 6), zst = Zstd(plain, 3, true);
  auto flipped = [](std::string s, size_t at) {
    s[at] = static_cast<char>(s[at] ^ 0x55);
    return s;
  };
  for (size_t piece : {1, 100, 0}) {
    ExpectInvalid(flipped(gz, 2), "corrupt gzip stream", piece);              // CM
    ExpectInvalid(flipped(gz, gz.size() - 6), "corrupt gzip stream", piece);  // CRC-32
    ExpectInvalid(flipped(gz, gz.size() - 2), "corrupt gzip stream", piece);  // ISIZE
    ExpectInvalid(gz + "garbage after the member", "corrupt gzip stream", piece);
    ExpectInvalid(flipped(zst, zst.size() / 2), "corrupt zstd stream", piece);
    ExpectInvalid(flipped(zst, zst.size() - 2), "corrupt zstd stream", piece);  // checksum
  }
  const std::string stored = Gzip(plain, 0);
  ExpectInvalid(flipped(stored, 11), "corrupt gzip stream", 3);  // a stored block's LEN
  // Told gzip, bytes that are not gzip are corrupt.
  Decoded d = Decode(plain, 0, kNoLimit, Compression::kGzip);
  ASSERT_FALSE(d.result);
  EXPECT_EQ(d.result.error().message, "corrupt gzip stream: invalid gzip header");
}

TEST(StreamDecompressorTest, OutputLimitStopsABomb) {
  const std::string zeros(1 << 20, '\0');
  const std::string gz = Gzip(zeros, 9), zst = Zstd(zeros);
  ASSERT_LT(gz.size(), 2000u);
  for (size_t piece : {1, 4096, 0}) {
    ExpectInvalid(gz, "decompressed archive over 1000000 bytes", piece, 1000000);
    ExpectInvalid(zst, "decompressed archive over 1000000 bytes", piece, 1000000);
    ExpectInvalid(zeros, "decompressed archive over 1000000 bytes", piece, 1000000);
  }
  // Exactly at the limit is fine; what reached the sink never passes it.
  EXPECT_TRUE(Decode(gz, 0, zeros.size()).result);
  EXPECT_TRUE(Decode(zeros, 7, zeros.size()).result);
  Decoded over = Decode(gz, 512, zeros.size() - 1);
  EXPECT_FALSE(over.result);
  EXPECT_LT(over.output.size(), zeros.size());
}

TEST(StreamDecompressorTest, SinkErrorStopsTheStream) {
  const std::string plain = MixedBytes(600000, 9);
  for (const std::string& input : {Gzip(plain, 6), Zstd(plain), plain}) {
    int calls = 0;
    StreamDecompressor d(
        [&](std::string_view) -> Result<void> {
          ++calls;
          return Cancelled("stopped by the sink");
        },
        kNoLimit);
    auto fed = d.Feed(input);
    ASSERT_FALSE(fed);
    EXPECT_EQ(fed.error().code, Code::kCancelled);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(d.Feed("more").error().message, "stopped by the sink");
    EXPECT_EQ(d.Finish().error().code, Code::kCancelled);
    EXPECT_EQ(calls, 1);
  }
}

TEST(StreamDecompressorTest, ErrorsRepeat) {
  StreamDecompressor d([](std::string_view) -> Result<void> { return {}; }, kNoLimit);
  ASSERT_FALSE(d.Feed(std::string("\x1f\x8b\x09garbage-------", 16)));
  auto again = d.Feed(Gzip("fine", 6));
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("corrupt gzip stream"), std::string::npos);
  EXPECT_FALSE(d.Finish());
}

}  // namespace
}  // namespace wharf::content
