// content::LayerDigester on gzip, against igzip inflating the same stream in one call. The
// digester parses a member's leading stored blocks itself and hands the rest to igzip; that
// must change nothing: the same streams accepted, with the same diff_id and size.
//
// Input: one byte choosing how the stream is cut into Updates, one byte of flags, then raw
// deflate data. The target wraps the data into a gzip member with a valid trailer when igzip
// can inflate it (so the fuzzer explores block structures rather than failing CRCs), else
// with the last 8 input bytes as the trailer; the flags may flip a trailer bit or repeat the
// member.
#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <optional>
#include <string>

#include "fuzz_input.h"
#include "wharf/base/digest.h"
#include "wharf/content/layer_digester.h"

using namespace wharf;

namespace {

constexpr size_t kMaxOutput = 1 << 20;  // streams inflating to more are skipped, not compared

struct Inflated {
  bool ok = false;       // igzip accepted the whole input
  bool too_big = false;  // the output did not fit: no verdict
  std::string data;      // all members' output
  size_t used = 0;       // input bytes the deflate stream took (raw mode)
};

// igzip in one call per member (raw deflate: one stream; gzip: members until the input ends).
Inflated InflateWhole(std::string_view in, int crc_flag) {
  static std::string buffer(kMaxOutput, '\0');
  Inflated out;
  size_t pos = 0;
  do {
    inflate_state s;
    isal_inflate_init(&s);
    s.crc_flag = crc_flag;
    s.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(in.data() + pos));
    s.avail_in = static_cast<uint32_t>(in.size() - pos);
    s.next_out = reinterpret_cast<uint8_t*>(buffer.data());
    s.avail_out = static_cast<uint32_t>(std::min(buffer.size(), kMaxOutput - out.data.size()));
    int rc = isal_inflate(&s);
    if (rc == ISAL_DECOMP_OK && s.block_state != ISAL_BLOCK_FINISH && s.avail_out == 0) {
      out.too_big = true;
      return out;
    }
    if (rc != ISAL_DECOMP_OK || s.block_state != ISAL_BLOCK_FINISH) return out;
    out.data.append(buffer.data(), reinterpret_cast<char*>(s.next_out) - buffer.data());
    pos = in.size() - s.avail_in;
    // Raw deflate leaves read-ahead bytes in the bit buffer; they were not used.
    out.used = pos - s.read_in_length / 8;
  } while (crc_flag != ISAL_DEFLATE && pos < in.size());
  out.ok = true;
  return out;
}

std::string LittleEndian32(uint32_t v) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (8 * i));
  return out;
}

// The digester's verdict on `stream` fed in pieces of `chunk` bytes.
std::optional<content::LayerDigester::Output> DigestInPieces(std::string_view stream,
                                                             size_t chunk) {
  content::LayerDigester digester(oci::Compression::kGzip);
  for (size_t pos = 0; pos < stream.size(); pos += chunk) {
    std::string_view piece = stream.substr(pos, chunk);
    if (!digester.Update(piece.data(), piece.size())) return std::nullopt;
  }
  auto out = digester.Finish();
  if (!out) return std::nullopt;
  return *out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t chunk = 1 + static_cast<size_t>(data[0]) * 37;
  const uint8_t flags = data[1];
  std::string_view deflate = fuzz::AsText(data + 2, size - 2);

  std::string member("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
  Inflated raw = InflateWhole(deflate, ISAL_DEFLATE);
  if (raw.too_big) return 0;
  if (raw.ok) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(raw.data.data());
    member.append(deflate.substr(0, raw.used));
    member += LittleEndian32(crc32_gzip_refl(0, bytes, raw.data.size()));
    member += LittleEndian32(static_cast<uint32_t>(raw.data.size()));
  } else {
    member.append(deflate);
  }
  if (flags & 1) {  // flip a bit of the last 8 bytes (the trailer of a valid member)
    member[member.size() - 1 - (flags >> 5)] ^= static_cast<char>(flags & 0x10 ? 0x80 : 0x01);
  }
  const std::string stream = flags & 2 ? member + member : member;

  Inflated reference = InflateWhole(stream, ISAL_GZIP);
  if (reference.too_big) return 0;
  auto digested = DigestInPieces(stream, chunk);
  fuzz::Require(digested.has_value() == reference.ok);
  if (reference.ok) {
    fuzz::Require(digested->diff_id == Digest::Of(reference.data));
    fuzz::Require(digested->uncompressed_size == static_cast<int64_t>(reference.data.size()));
  }
  return 0;
}
