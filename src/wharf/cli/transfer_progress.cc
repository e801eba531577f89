#include "wharf/cli/transfer_progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "wharf/cli/table.h"
#include "wharf/cli/terminal.h"

namespace wharf::cli {

namespace {

constexpr double kFrameIntervalS = 0.1;
constexpr int kMaxBar = 52;

double Now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

void TransferProgress::Set(int64_t done) {
  done_ = done;
  double now = Now();
  speed_.Add(now, done_);
  if (now - last_draw_s_ >= kFrameIntervalS) Draw(now);
}

void TransferProgress::Finish() {
  if (!shown_ || last_draw_s_ < 0) return;
  Draw(Now());
  std::fputs("\n", stderr);
}

void TransferProgress::Draw(double now) {
  last_draw_s_ = now;
  if (!shown_) return;
  std::string line = TransferProgressLine(label_, done_, total_, speed_.BytesPerSecond(),
                                          TerminalWidth(STDERR_FILENO));
  std::fprintf(stderr, "\r\x1b[2K%s", line.c_str());
  std::fflush(stderr);
}

std::string TransferProgressLine(const std::string& label, int64_t done, int64_t total,
                                 std::optional<double> speed, int width) {
  std::string sizes = total >= 0 ? HumanSize(done) + "/" + HumanSize(total) : HumanSize(done);
  std::string tail;
  if (total > 0)
    tail += "  " + std::to_string(std::clamp<int64_t>(done * 100 / total, 0, 100)) + "%";
  if (speed && *speed > 0) {
    tail += "  " + HumanSize(static_cast<int64_t>(*speed)) + "/s";
    if (total > done) tail += "  ETA " + FormatEta(static_cast<double>(total - done) / *speed);
  }
  const int room = std::max(width - 1, 10);
  int bar_width =
      std::min(kMaxBar, room - static_cast<int>(label.size() + sizes.size() + tail.size()) - 4);
  std::string line = label + "  ";
  if (total > 0 && bar_width >= 12) line += RenderBar(done, total, bar_width) + "  ";
  return Truncate(line + sizes + tail, static_cast<size_t>(room));
}

}  // namespace wharf::cli
