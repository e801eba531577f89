// The last 32 KiB of a gzip member's output while its stored blocks go to the sink straight
// from the input (decompressor.cc): the dictionary igzip needs if a compressed block follows.
// Internal to the decompressor. Not thread-safe.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace wharf::content {

// deflate's window: how far back a match may reach.
constexpr size_t kDeflateWindow = 32 << 10;

// Spans of the caller's input are noted (no copy) and only what may still be needed is copied
// out before that input goes away, so a stored-only stream costs at most 32 KiB of copying per
// Feed, not a copy of every byte.
class DeflateHistory {
 public:
  void Reset() {
    spans_.clear();
    span_bytes_ = 0;
    pos_ = filled_ = 0;
  }
  // `data` must stay valid until the next Save().
  void Note(const uint8_t* data, size_t n) {
    spans_.emplace_back(data, n);
    span_bytes_ += n;
    if (spans_.size() >= kMaxSpans) Save();
  }
  // Copies the noted spans' part of the last 32 KiB into the ring and forgets the spans.
  void Save() {
    size_t skip = span_bytes_ > kDeflateWindow ? span_bytes_ - kDeflateWindow : 0;
    for (auto [data, n] : spans_) {
      if (n <= skip) {
        skip -= n;
        continue;
      }
      Put(data + skip, n - skip);
      skip = 0;
    }
    spans_.clear();
    span_bytes_ = 0;
  }
  // Writes the history, oldest byte first, to `out` (kDeflateWindow bytes); returns its length.
  size_t CopyTo(uint8_t* out) {
    Save();
    size_t start = (pos_ + kDeflateWindow - filled_) % kDeflateWindow;
    size_t first = std::min(filled_, kDeflateWindow - start);
    std::memcpy(out, ring_.data() + start, first);
    std::memcpy(out + first, ring_.data(), filled_ - first);
    return filled_;
  }

 private:
  static constexpr size_t kMaxSpans = 64;

  void Put(const uint8_t* data, size_t n) {  // n <= kDeflateWindow
    size_t first = std::min(n, kDeflateWindow - pos_);
    std::memcpy(ring_.data() + pos_, data, first);
    std::memcpy(ring_.data(), data + first, n - first);
    pos_ = (pos_ + n) % kDeflateWindow;
    filled_ = std::min(kDeflateWindow, filled_ + n);
  }

  std::array<uint8_t, kDeflateWindow> ring_{};
  size_t pos_ = 0;
  size_t filled_ = 0;
  std::vector<std::pair<const uint8_t*, size_t>> spans_;
  size_t span_bytes_ = 0;
};

}  // namespace wharf::content
