#include "wharf/base/digest.h"

#include <openssl/evp.h>

namespace wharf {

namespace {
bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Ends the hash in `ctx` and resets it for a new one.
Digest FinishContext(EVP_MD_CTX* ctx) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(64, '0');
  for (int i = 0; i < 32; ++i) {
    hex[2 * i] = kHex[md[i] >> 4];
    hex[2 * i + 1] = kHex[md[i] & 15];
  }
  return *Digest::FromHex(hex);
}

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

struct Sha256::State {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr);
}

Sha256::~Sha256() = default;

Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Update(const void* data, size_t n) { EVP_DigestUpdate(state_->ctx, data, n); }

Digest Sha256::Finish() { return FinishContext(state_->ctx); }

Digest Sha256::Peek() const {
  State copy;
  EVP_MD_CTX_copy_ex(copy.ctx, state_->ctx);
  return FinishContext(copy.ctx);
}

}  // namespace wharf
