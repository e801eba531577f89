#include "wharf/content/layer_digester.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <random>
#include <string>
#include <vector>

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

// gzip via zlib, so that the decoder under test is checked against an independent encoder.
std::string Gzip(std::string_view data, int level, const char* member_name = nullptr) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  gz_header header{};
  std::string name = member_name ? member_name : "";
  std::string extra = "wharf-extra-field";
  if (member_name) {
    header.name = reinterpret_cast<Bytef*>(name.data());
    header.extra = reinterpret_cast<Bytef*>(extra.data());
    header.extra_len = static_cast<uInt>(extra.size());
    header.hcrc = 1;
    EXPECT_EQ(deflateSetHeader(&zs, &header), Z_OK);
  }
  std::string out(deflateBound(&zs, data.size()) + 256, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
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

}  // namespace
}  // namespace wharf::content
