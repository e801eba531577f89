// The progress line of a transfer of known or unknown size (wharf save, wharf load), redrawn
// in place on stderr at most ten times a second, only when stderr is a terminal. Not
// thread-safe; one per transfer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "wharf/cli/progress.h"

namespace wharf::cli {

class TransferProgress {
 public:
  // `shown`: whether to draw at all (stderr is a terminal).
  TransferProgress(std::string label, bool shown) : label_(std::move(label)), shown_(shown) {}
  void SetTotal(int64_t total) { total_ = total; }
  int64_t done() const { return done_; }
  int64_t total() const { return total_; }
  void Add(size_t bytes) { Set(done_ + static_cast<int64_t>(bytes)); }
  // Bytes moved so far.
  void Set(int64_t done);
  // The last frame, and the end of its line.
  void Finish();

 private:
  void Draw(double now);

  std::string label_;
  bool shown_;
  int64_t done_ = 0;
  int64_t total_ = -1;
  SpeedMeter speed_;
  double last_draw_s_ = -1;
};

// "Saving busybox:1.36  [=====>      ]  12.3MB/63.4MB  27%  4.1MB/s  ETA 12s", fitted into
// `width` - 1 columns (the bar goes first); `total` < 0 when unknown. Pure.
std::string TransferProgressLine(const std::string& label, int64_t done, int64_t total,
                                 std::optional<double> speed, int width);

}  // namespace wharf::cli
