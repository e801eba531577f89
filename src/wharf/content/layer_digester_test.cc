#include "wharf/content/layer_digester.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <random>
#include <string>
#include <vector>

#include "wharf/content/gzip_test_util.h"

namespace wharf::content {
namespace {

using oci::Compression;

// Something like a tar: incompressible runs (binaries) between very compressible ones (text),
// larger than the digester's output buffer and than deflate's 32 KiB window.
std::string LayerLikeBytes(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out;
  out.reserve(size + 64);
  for (int part = 0; out.size() < size; ++part) {
    if (part % 2 == 0) {
      for (int i = 0; i < 6000; ++i) {
        uint64_t word = rng();
        out.append(reinterpret_cast<const char*>(&word), sizeof word);
      }
    } else {
      for (int line = 0; line < 2000; ++line) {
        out += "usr/lib/x86_64-linux-gnu/libexample.so." + std::to_string(line % 97) + "\n";
      }
    }
  }
  out.resize(size);
  return out;
}

std::string Zstd(std::string_view data, bool checksum) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, checksum ? 1 : 0);
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress2(cctx, out.data(), out.size(), data.data(), data.size());
  EXPECT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
  ZSTD_freeCCtx(cctx);
  out.resize(n);
  return out;
}

// Feeds `compressed` in pieces of `chunk` bytes; the first error wins.
Result<LayerDigester::Output> DigestInChunks(Compression c, std::string_view compressed,
                                             size_t chunk) {
  LayerDigester digester(c);
  for (size_t pos = 0; pos < compressed.size(); pos += chunk) {
    std::string_view piece = compressed.substr(pos, chunk);
    WHARF_RETURN_IF_ERROR(digester.Update(piece.data(), piece.size()));
  }
  return digester.Finish();
}

// Asserts that every chunking yields the diff_id and size of `uncompressed`.
void ExpectDiffId(Compression c, std::string_view compressed, std::string_view uncompressed,
                  std::vector<size_t> chunks) {
  const Digest want = Digest::Of(uncompressed);
  for (size_t chunk : chunks) {
    if (chunk == 0) chunk = std::max<size_t>(compressed.size(), 1);  // whole buffer
    auto out = DigestInChunks(c, compressed, chunk);
    ASSERT_TRUE(out.has_value()) << "chunk " << chunk << ": " << out.error().ToString();
    EXPECT_EQ(out->diff_id, want) << "chunk " << chunk;
    EXPECT_EQ(out->uncompressed_size, static_cast<int64_t>(uncompressed.size()))
        << "chunk " << chunk;
  }
}

void ExpectDataLoss(Compression c, std::string_view compressed, size_t chunk = 4096) {
  auto out = DigestInChunks(c, compressed, chunk);
  ASSERT_FALSE(out.has_value()) << "corrupt stream accepted";
  EXPECT_EQ(out.error().code, Code::kDataLoss) << out.error().ToString();
}

constexpr size_t kWhole = 0;

TEST(LayerDigesterTest, UncompressedHashesTheBytesThemselves) {
  const std::string data = LayerLikeBytes(300 << 10, 1);
  ExpectDiffId(Compression::kNone, data, data, {1, 7, 65536, kWhole});
}

TEST(LayerDigesterTest, UncompressedEmptyLayer) {
  ExpectDiffId(Compression::kNone, "", "", {kWhole});
}

TEST(LayerDigesterTest, GzipMatchesDigestOfUncompressedBytes) {
  const std::string data = LayerLikeBytes(700 << 10, 2);
  // Level 0 makes stored blocks, 1 fixed/fast Huffman blocks, 9 dynamic ones.
  for (int level : {0, 1, 6, 9}) {
    SCOPED_TRACE("level " + std::to_string(level));
    ExpectDiffId(Compression::kGzip, Gzip(data, level), data, {7, 65536, kWhole});
  }
  ExpectDiffId(Compression::kGzip, Gzip(data, 6), data, {1});
}

// gzip via zlib in parts: each part is compressed at its level, the level changing between
// parts (zlib ends the block there), so a stream can have stored blocks followed by compressed
// ones that refer back into them. `sync` asks for an empty stored block after each part.
std::string GzipInParts(const std::vector<std::pair<std::string_view, int>>& parts,
                        bool sync = false) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, parts.front().second, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out;
  std::string buffer(1 << 16, '\0');
  auto drain = [&](int flush) {
    int rc = Z_OK;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buffer.data());
      zs.avail_out = static_cast<uInt>(buffer.size());
      rc = deflate(&zs, flush);
      EXPECT_NE(rc, Z_STREAM_ERROR);
      out.append(buffer.data(), buffer.size() - zs.avail_out);
    } while (zs.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  };
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      zs.next_in = nullptr;
      zs.avail_in = 0;
      drain(Z_BLOCK);  // deflateParams wants the pending block out first
      EXPECT_EQ(deflateParams(&zs, parts[i].second, Z_DEFAULT_STRATEGY), Z_OK);
    }
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(parts[i].first.data()));
    zs.avail_in = static_cast<uInt>(parts[i].first.size());
    drain(sync ? Z_SYNC_FLUSH : Z_NO_FLUSH);
  }
  drain(Z_FINISH);
  deflateEnd(&zs);
  return out;
}

// BTYPE of the first deflate block of a gzip member with a plain 10-byte header.
int FirstBlockType(std::string_view gzip) { return (static_cast<uint8_t>(gzip[10]) >> 1) & 3; }

TEST(LayerDigesterTest, GzipLargeLayerInBigChunks) {
  const std::string data = LayerLikeBytes(24 << 20, 3);
  ExpectDiffId(Compression::kGzip, Gzip(data, 1), data, {1 << 20, kWhole});
}

TEST(LayerDigesterTest, GzipMultiMemberIsOneStream) {
  const std::string first = LayerLikeBytes(400 << 10, 4);
  const std::string second = LayerLikeBytes(90 << 10, 5);
  // The second member has FNAME, FEXTRA and FHCRC header fields, split across 1-byte feeds.
  const std::string compressed =
      Gzip(first, 6) + Gzip(second, 1, "layer.tar") + Gzip("", 6) + Gzip("tail", 9);
  ExpectDiffId(Compression::kGzip, compressed, first + second + "tail", {1, 7, 4096, kWhole});
}

// FNAME, FEXTRA and FHCRC cut at every position: the header parser's state must survive
// between Updates (igzip's own header handling inside isal_inflate does not keep it).
TEST(LayerDigesterTest, GzipHeaderFieldsSplitAcrossUpdates) {
  const std::string data = LayerLikeBytes(100 << 10, 14);
  ExpectDiffId(Compression::kGzip, Gzip(data, 6, "a-rather-long-member-name.tar"), data,
               {1, 3, 7, 11, kWhole});
}

TEST(LayerDigesterTest, GzipStoredBlocksSplitAtEveryByte) {
  const std::string data = LayerLikeBytes(150 << 10, 15);
  const std::string compressed = Gzip(data, 0);  // stored blocks only
  ASSERT_EQ(FirstBlockType(compressed), 0);
  ExpectDiffId(Compression::kGzip, compressed, data, {1, 2, 3, 5, 65535, 65540, kWhole});
}

// Stored blocks hashed in place, then compressed blocks whose matches reach back into them:
// the inflater that takes over must get the stored bytes as its history.
TEST(LayerDigesterTest, GzipCompressedBlocksAfterStoredOnesSeeTheirHistory) {
  const std::string stored = LayerLikeBytes(100 << 10, 16).substr(0, 48 << 10);  // random part
  const std::string again = stored.substr(stored.size() - (30 << 10));  // within the window
  const std::string text = LayerLikeBytes(200 << 10, 17).substr(48 << 10, 60 << 10);
  const std::string data = stored + again + text;
  const std::string compressed = GzipInParts({{stored, 0}, {again + text, 9}});
  ASSERT_EQ(FirstBlockType(compressed), 0);
  // `again` costs next to nothing only if it was coded as matches into the stored bytes.
  ASSERT_LT(compressed.size(), stored.size() + (20 << 10));
  ExpectDiffId(Compression::kGzip, compressed, data, {1, 3, 7, 4096, (48 << 10) + 7, kWhole});

  // Longer stored runs than the window, and several switches (the later stored blocks are
  // inflated by igzip: once it has taken over a member, it keeps it).
  const std::string big = LayerLikeBytes(400 << 10, 18).substr(0, 96 << 10);
  const std::string tail = big.substr(big.size() - (32 << 10));
  const std::string mixed = GzipInParts({{big, 0}, {tail, 6}, {big, 0}, {text, 1}});
  ExpectDiffId(Compression::kGzip, mixed, big + tail + big + text, {1, 5, 65536, kWhole});
}

TEST(LayerDigesterTest, GzipEmptyStoredBlocksAndMixedMembers) {
  const std::string text = LayerLikeBytes(200 << 10, 19).substr(48 << 10, 40 << 10);
  const std::string random = LayerLikeBytes(100 << 10, 20).substr(0, 40 << 10);
  // Z_SYNC_FLUSH leaves an empty stored block after each part, the first one before any data.
  const std::string synced = GzipInParts({{"", 6}, {random, 0}, {text, 6}}, /*sync=*/true);
  ExpectDiffId(Compression::kGzip, synced, random + text, {1, 4, kWhole});
  const std::string members =
      Gzip(random, 0) + GzipInParts({{random, 0}, {text, 9}}) + Gzip(text, 0) + Gzip("", 0);
  ExpectDiffId(Compression::kGzip, members, random + random + text + text, {1, 7, kWhole});
}

// Deflate bits, least significant first; Huffman codes go most significant bit first.
class BitWriter {
 public:
  void Bits(uint32_t value, int count) {
    for (int i = 0; i < count; ++i) Bit((value >> i) & 1);
  }
  void Code(uint32_t code, int length) {
    for (int i = length - 1; i >= 0; --i) Bit((code >> i) & 1);
  }
  std::string Done() { return bytes_; }  // the last byte is zero-padded

 private:
  void Bit(uint32_t bit) {
    if (used_ % 8 == 0) bytes_ += '\0';
    bytes_.back() = static_cast<char>(bytes_.back() | (bit << (used_ % 8)));
    ++used_;
  }
  std::string bytes_;
  size_t used_ = 0;
};

// A gzip member: a stored block of `stored`, then a final fixed-Huffman block holding one
// 3-byte match `distance` back; the trailer is right if that match is valid.
std::string StoredThenMatch(std::string_view stored, uint32_t distance) {
  std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
  const auto len = static_cast<uint16_t>(stored.size());
  out += '\0';  // BFINAL 0, BTYPE 00
  out += {static_cast<char>(len & 0xff), static_cast<char>(len >> 8),
          static_cast<char>(~len & 0xff), static_cast<char>((~len >> 8) & 0xff)};
  out += stored;
  BitWriter bits;
  bits.Bits(1, 1);  // BFINAL
  bits.Bits(1, 2);  // BTYPE 01: fixed codes
  bits.Code(1, 7);  // literal/length 257: length 3
  // Distance codes 0-29: the first distance each stands for, and its extra bits.
  static constexpr uint32_t kBase[] = {
      1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
      193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
  uint32_t code = 29;
  while (kBase[code] > distance) --code;
  bits.Code(code, 5);
  bits.Bits(distance - kBase[code], code < 4 ? 0 : static_cast<int>(code / 2 - 1));
  bits.Code(0, 7);  // end of block
  out += bits.Done();
  std::string output(stored);
  for (int i = 0; i < 3; ++i) {
    output += distance <= output.size() ? output[output.size() - distance] : '\0';
  }
  const uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(output.data()), static_cast<uInt>(output.size())));
  const auto size = static_cast<uint32_t>(output.size());
  for (uint32_t v : {crc, size}) {
    for (int i = 0; i < 4; ++i) out += static_cast<char>(v >> (8 * i));
  }
  return out;
}

// After the hand-over the inflater may reach back to the member's first byte and no further,
// however much it has been told was output before.
TEST(LayerDigesterTest, GzipMatchesCannotReachBeforeTheMember) {
  const std::string stored = LayerLikeBytes(64 << 10, 23).substr(0, 1000);
  for (uint32_t distance : {1u, 3u, 700u, 1000u}) {
    SCOPED_TRACE("distance " + std::to_string(distance));
    std::string want = stored;
    for (int i = 0; i < 3; ++i) want += want[want.size() - distance];
    ExpectDiffId(Compression::kGzip, StoredThenMatch(stored, distance), want, {1, 6, kWhole});
  }
  for (uint32_t distance : {1001u, 1500u, 1999u, 2000u, 32768u}) {
    SCOPED_TRACE("distance " + std::to_string(distance));
    auto out = DigestInChunks(Compression::kGzip, StoredThenMatch(stored, distance), 4096);
    ASSERT_FALSE(out.has_value());
    EXPECT_NE(out.error().message.find("back-reference"), std::string::npos) << out.error().message;
    // Also after a first member: its output is not history for the second.
    ExpectDataLoss(Compression::kGzip, Gzip(stored, 0) + StoredThenMatch(stored, distance), 7);
  }
}

// A stored-only member is checked like any other: its lengths, the CRC-32 and the size.
TEST(LayerDigesterTest, GzipStoredBlocksAreChecked) {
  const std::string data = LayerLikeBytes(100 << 10, 21);
  const std::string compressed = Gzip(data, 0);
  ASSERT_EQ(FirstBlockType(compressed), 0);
  auto flipped = [&](size_t pos) {
    std::string corrupt = compressed;
    corrupt[pos] = static_cast<char>(corrupt[pos] ^ 0x01);
    return corrupt;
  };
  for (size_t chunk : {size_t{1}, size_t{4096}, compressed.size()}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    ExpectDataLoss(Compression::kGzip, flipped(13), chunk);                     // NLEN
    ExpectDataLoss(Compression::kGzip, flipped(11), chunk);                     // LEN
    ExpectDataLoss(Compression::kGzip, flipped(compressed.size() / 2), chunk);  // data
    ExpectDataLoss(Compression::kGzip, flipped(compressed.size() - 8), chunk);  // CRC-32
    ExpectDataLoss(Compression::kGzip, flipped(compressed.size() - 4), chunk);  // ISIZE
    ExpectDataLoss(Compression::kGzip, compressed.substr(0, compressed.size() - 3), chunk);
  }
  // After a switch to compressed blocks the trailer still covers the stored part.
  const std::string text = LayerLikeBytes(200 << 10, 22).substr(48 << 10, 20 << 10);
  std::string mixed = GzipInParts({{data, 0}, {text, 6}});
  mixed[mixed.size() - 8] = static_cast<char>(mixed[mixed.size() - 8] ^ 0x01);
  ExpectDataLoss(Compression::kGzip, mixed);
  mixed = GzipInParts({{data, 0}, {text, 6}});
  mixed[mixed.size() - 2] = static_cast<char>(mixed[mixed.size() - 2] ^ 0x01);
  ExpectDataLoss(Compression::kGzip, mixed, 1);
}

TEST(LayerDigesterTest, GzipEmptyLayer) {
  ExpectDiffId(Compression::kGzip, Gzip("", 6), "", {1, kWhole});
}

TEST(LayerDigesterTest, GzipTruncatedIsDataLoss) {
  const std::string data = LayerLikeBytes(200 << 10, 6);
  const std::string compressed = Gzip(data, 6);
  ExpectDataLoss(Compression::kGzip, "");
  ExpectDataLoss(Compression::kGzip, compressed.substr(0, 5));  // inside the header
  ExpectDataLoss(Compression::kGzip, compressed.substr(0, compressed.size() / 2));
  ExpectDataLoss(Compression::kGzip, compressed.substr(0, compressed.size() - 1));  // trailer
  ExpectDataLoss(Compression::kGzip, compressed.substr(0, compressed.size() - 1), 1);
  // A second member that stops early.
  ExpectDataLoss(Compression::kGzip, compressed + compressed.substr(0, 40));
}

TEST(LayerDigesterTest, GzipCorruptIsDataLoss) {
  const std::string data = LayerLikeBytes(200 << 10, 7);
  for (int level : {0, 6}) {
    std::string compressed = Gzip(data, level);
    for (size_t pos : {compressed.size() / 3, compressed.size() / 2, compressed.size() - 6}) {
      std::string corrupt = compressed;
      corrupt[pos] = static_cast<char>(corrupt[pos] ^ 0x5a);
      SCOPED_TRACE("level " + std::to_string(level) + " byte " + std::to_string(pos));
      ExpectDataLoss(Compression::kGzip, corrupt);
    }
  }
  std::string bad_magic = Gzip(data, 6);
  bad_magic[1] = 'x';
  ExpectDataLoss(Compression::kGzip, bad_magic);
}

TEST(LayerDigesterTest, GzipTrailingGarbageIsDataLoss) {
  const std::string compressed = Gzip(LayerLikeBytes(50 << 10, 8), 6);
  ExpectDataLoss(Compression::kGzip, compressed + "this is not a gzip member");
  ExpectDataLoss(Compression::kGzip, compressed + std::string(512, '\0'));
  ExpectDataLoss(Compression::kGzip, compressed + "this is not a gzip member", 1);
}

TEST(LayerDigesterTest, ErrorsAreSticky) {
  std::string compressed = Gzip(LayerLikeBytes(100 << 10, 9), 6);
  compressed[0] = 0;  // bad magic: fails on the first Update
  LayerDigester digester(Compression::kGzip);
  auto first = digester.Update(compressed.data(), compressed.size());
  ASSERT_FALSE(first.has_value());
  EXPECT_EQ(first.error().code, Code::kDataLoss);
  auto again = digester.Update(compressed.data(), 10);
  ASSERT_FALSE(again.has_value());
  auto finish = digester.Finish();
  ASSERT_FALSE(finish.has_value());
  EXPECT_EQ(finish.error().code, Code::kDataLoss);
}

TEST(LayerDigesterTest, ZstdMatchesDigestOfUncompressedBytes) {
  const std::string data = LayerLikeBytes(700 << 10, 10);
  ExpectDiffId(Compression::kZstd, Zstd(data, false), data, {1, 7, 65536, kWhole});
  ExpectDiffId(Compression::kZstd, Zstd(data, true), data, {7, kWhole});
}

TEST(LayerDigesterTest, ZstdMultiFrameAndEmpty) {
  const std::string first = LayerLikeBytes(300 << 10, 11);
  const std::string second = LayerLikeBytes(20 << 10, 12);
  ExpectDiffId(Compression::kZstd, Zstd(first, true) + Zstd("", false) + Zstd(second, false),
               first + second, {1, 7, kWhole});
  ExpectDiffId(Compression::kZstd, Zstd("", true), "", {1, kWhole});
}

TEST(LayerDigesterTest, ZstdTruncatedOrCorruptIsDataLoss) {
  const std::string data = LayerLikeBytes(300 << 10, 13);
  const std::string compressed = Zstd(data, true);
  ExpectDataLoss(Compression::kZstd, "");
  ExpectDataLoss(Compression::kZstd, compressed.substr(0, 3));
  ExpectDataLoss(Compression::kZstd, compressed.substr(0, compressed.size() / 2));
  ExpectDataLoss(Compression::kZstd, compressed.substr(0, compressed.size() - 1), 1);
  std::string corrupt = compressed;
  corrupt[corrupt.size() / 2] = static_cast<char>(corrupt[corrupt.size() / 2] ^ 0x5a);
  ExpectDataLoss(Compression::kZstd, corrupt);
  ExpectDataLoss(Compression::kZstd, compressed + "trailing garbage");
}

// A bomb: 64 MiB of zeros compress to a few KiB in both formats. The digester stops at the
// limit, as the stream is read, and says which layer and which limit.
TEST(LayerDigesterTest, BombsStopAtTheLimitsAsTheyAreRead) {
  const std::string zeros(64 << 20, '\0');
  for (Compression c : {Compression::kGzip, Compression::kZstd}) {
    const std::string bomb = c == Compression::kGzip ? Gzip(zeros, 9) : Zstd(zeros, false);
    SCOPED_TRACE(bomb.size());
    LayerDigester sized(c, {.max_bytes = 8 << 20, .max_ratio = 0}, "layer sha256:b0");
    auto fed = sized.Update(bomb.data(), bomb.size());
    ASSERT_FALSE(fed);
    EXPECT_EQ(fed.error().code, Code::kTooLarge);
    EXPECT_EQ(fed.error().message,
              "layer sha256:b0 unpacks to over 8388608 bytes (downloads.max_unpacked_bytes)");
    EXPECT_FALSE(sized.Finish());  // the stream is done

    LayerDigester ratio(c, {.max_ratio = 100, .ratio_free_bytes = 1 << 20}, "layer sha256:b1");
    fed = ratio.Update(bomb.data(), bomb.size());
    ASSERT_FALSE(fed);
    EXPECT_EQ(fed.error().code, Code::kTooLarge);
    EXPECT_NE(fed.error().message.find("layer sha256:b1 unpacks to over 100 times its compressed "
                                       "size"),
              std::string::npos)
        << fed.error().message;
    // Within the limits the same stream is a layer like any other.
    LayerDigester within(c, {.max_bytes = 64 << 20, .max_ratio = 0}, "layer sha256:b2");
    ASSERT_TRUE(within.Update(bomb.data(), bomb.size()));
    auto out = within.Finish();
    ASSERT_TRUE(out) << out.error().ToString();
    EXPECT_EQ(out->diff_id, Digest::Of(zeros));
  }
}

// One Update of a few KiB that inflates to 256 MiB: the cancel is seen inside that Update,
// after a few polls, not once the whole input is through.
TEST(LayerDigesterTest, CancelCutsALongInflate) {
  const std::string zeros(256 << 20, '\0');
  const std::string bomb = Zstd(zeros, false);
  int polls = 0;
  LayerDigester digester(Compression::kZstd,
                         {.max_ratio = 0, .cancelled = [&] { return ++polls == 2; }});
  auto fed = digester.Update(bomb.data(), bomb.size());
  ASSERT_FALSE(fed);
  EXPECT_EQ(fed.error().code, Code::kCancelled);
  EXPECT_EQ(polls, 2);
}

}  // namespace
}  // namespace wharf::content
