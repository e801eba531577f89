#include "wharf/base/digest.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "wharf/base/sha256_ni.h"

namespace wharf {

namespace {
bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Digest FromBytes(const unsigned char md[32]) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(64, '0');
  for (int i = 0; i < 32; ++i) {
    hex[2 * i] = kHex[md[i] >> 4];
    hex[2 * i + 1] = kHex[md[i] & 15];
  }
  return *Digest::FromHex(hex);
}

constexpr std::array<uint32_t, 8> kInitialHash = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                                  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

}  // namespace

Result<Digest> Digest::FromHex(std::string_view hex) {
  if (hex.size() != 64 || !IsLowerHex(hex)) {
    return InvalidArgument("invalid sha256 digest: " + std::string(hex.substr(0, 80)));
  }
  Digest d;
  d.hex_ = std::string(hex);
  return d;
}

Result<Digest> Digest::Parse(std::string_view text) {
  constexpr std::string_view kPrefix = "sha256:";
  if (!text.starts_with(kPrefix)) {
    return InvalidArgument("unsupported digest (only sha256): " + std::string(text.substr(0, 80)));
  }
  return FromHex(text.substr(kPrefix.size()));
}

Digest Digest::Of(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

// Either an OpenSSL context or the state of the SHA-NI engine: the working words, the bytes
// of an unfinished block and the length so far (FIPS 180-4: padding with 0x80, zeros and the
// length in bits, big-endian).
struct Sha256::State {
  EVP_MD_CTX* ctx = nullptr;  // the OpenSSL engine, or null for SHA-NI
  std::array<uint32_t, 8> words;
  std::array<unsigned char, 64> block;
  size_t buffered = 0;
  uint64_t length = 0;

  explicit State(Engine engine) {
    if (engine == Engine::kOpenSsl || !sha256_ni::Supported()) ctx = EVP_MD_CTX_new();
    Reset();
  }
  State(const State& other)
      : words(other.words), block(other.block), buffered(other.buffered), length(other.length) {
    if (other.ctx != nullptr) {
      ctx = EVP_MD_CTX_new();
      EVP_MD_CTX_copy_ex(ctx, other.ctx);
    }
  }
  State& operator=(const State&) = delete;
  ~State() { EVP_MD_CTX_free(ctx); }

  void Reset() {
    if (ctx != nullptr) EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
    words = kInitialHash;
    buffered = 0;
    length = 0;
  }

  // SHA-NI: hashes [p, p+n), copying it to `copy` if not null.
  void Absorb(const unsigned char* p, size_t n, unsigned char* copy) {
    length += n;
    if (buffered > 0) {
      size_t take = std::min(n, block.size() - buffered);
      std::memcpy(block.data() + buffered, p, take);
      if (copy != nullptr) copy = static_cast<unsigned char*>(std::memcpy(copy, p, take)) + take;
      buffered += take;
      p += take;
      n -= take;
      if (buffered < block.size()) return;
      sha256_ni::Blocks(words.data(), block.data(), 1, nullptr);
      buffered = 0;
    }
    if (size_t blocks = n / 64; blocks > 0) {
      sha256_ni::Blocks(words.data(), p, blocks, copy);
      p += blocks * 64;
      n -= blocks * 64;
      if (copy != nullptr) copy += blocks * 64;
    }
    if (n > 0) {
      std::memcpy(block.data(), p, n);
      if (copy != nullptr) std::memcpy(copy, p, n);
      buffered = n;
    }
  }

  Digest End() {
    unsigned char md[32];
    if (ctx != nullptr) {
      unsigned int len = 0;
      EVP_DigestFinal_ex(ctx, md, &len);
    } else {
      const uint64_t bits = length * 8;
      static constexpr unsigned char kPadding[64] = {0x80};
      Absorb(kPadding, 1 + (119 - buffered) % 64, nullptr);  // up to 56 bytes into a block
      unsigned char tail[8];
      for (int i = 0; i < 8; ++i) tail[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
      Absorb(tail, sizeof tail, nullptr);
      for (int i = 0; i < 8; ++i) {
        for (int j = 0; j < 4; ++j)
          md[4 * i + j] = static_cast<unsigned char>(words[i] >> (24 - 8 * j));
      }
    }
    Reset();
    return FromBytes(md);
  }
};

Sha256::Sha256(Engine engine) : state_(std::make_unique<State>(engine)) {}

Sha256::~Sha256() = default;

Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Update(const void* data, size_t n) {
  if (state_->ctx != nullptr) {
    EVP_DigestUpdate(state_->ctx, data, n);
  } else {
    state_->Absorb(static_cast<const unsigned char*>(data), n, nullptr);
  }
}

void Sha256::UpdateCopy(const void* data, size_t n, void* copy_to) {
  if (state_->ctx != nullptr) {
    EVP_DigestUpdate(state_->ctx, data, n);
    std::memcpy(copy_to, data, n);
  } else {
    state_->Absorb(static_cast<const unsigned char*>(data), n,
                   static_cast<unsigned char*>(copy_to));
  }
}

Digest Sha256::Finish() { return state_->End(); }

Digest Sha256::Peek() const {
  State copy(*state_);
  return copy.End();
}

}  // namespace wharf
