// Content digests ("sha256:<64 lowercase hex>") and a streaming SHA-256 hasher.
// Only sha256 is accepted: it is what every registry and OCI layout uses.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "wharf/base/status.h"

namespace wharf {

class Digest {
 public:
  Digest() = default;
  // Accepts exactly "sha256:" followed by 64 lowercase hex digits.
  static Result<Digest> Parse(std::string_view text);
  // From a 64-char lowercase hex string.
  static Result<Digest> FromHex(std::string_view hex);
  static Digest Of(std::string_view data);

  const std::string& hex() const { return hex_; }
  std::string str() const { return "sha256:" + hex_; }
  bool empty() const { return hex_.empty(); }

  friend bool operator==(const Digest&, const Digest&) = default;
  friend auto operator<=>(const Digest&, const Digest&) = default;

 private:
  std::string hex_;
};

// SHA-256 over a stream of bytes. Not thread-safe. Runs on the CPU's SHA extensions through
// sha256_ni.h where it has them (so that UpdateCopy can copy as it hashes), else on OpenSSL.
class Sha256 {
 public:
  enum class Engine { kBest, kOpenSsl };  // kOpenSsl: for tests of the other engine
  explicit Sha256(Engine engine = Engine::kBest);
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Update(const void* data, size_t n);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  // Update(data, n), and the same n bytes copied to `copy_to` (not overlapping `data`), in one
  // pass over them where the CPU allows.
  void UpdateCopy(const void* data, size_t n, void* copy_to);
  // Ends the hash; the hasher is reset and may be reused.
  Digest Finish();
  // The digest of the bytes so far; the hash goes on.
  Digest Peek() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace wharf
