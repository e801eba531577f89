// What `wharf pull` shows while a download runs. A JobState is read from a `job` event of the
// events stream (or, without it, from a downloadstatus entry, which has no layers). Two
// renderings: a frame redrawn in place on a terminal (one bar per layer and a total with
// speed and ETA, as `docker pull` draws them), and plain lines for logs and pipes. Pure: the
// caller supplies the clock and the terminal size.
#pragma once

#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wharf::cli {

struct LayerState {
  std::string digest;
  int64_t bytes_done = 0;
  int64_t bytes_total = -1;  // -1 unknown
};

struct JobState {
  std::string type;
  std::string name;
  std::string tag;
  std::string status;  // "waiting", "downloading", "done", "failed", "cancelled"
  int64_t bytes_done = 0;
  int64_t bytes_total = -1;
  std::optional<int> percent;
  std::string error;
  std::vector<LayerState> layers;

  bool finished() const { return status == "done" || status == "failed" || status == "cancelled"; }
};

// Reads the fields it knows; missing or mistyped ones keep their defaults.
JobState ParseJobState(const nlohmann::json& j);

// Transfer speed over a sliding window of recent samples.
class SpeedMeter {
 public:
  explicit SpeedMeter(double window_s = 5.0) : window_s_(window_s) {}
  void Add(double now_s, int64_t bytes_done);
  // Bytes per second, or nullopt until there are two samples a moment apart.
  std::optional<double> BytesPerSecond() const;

 private:
  double window_s_;
  std::deque<std::pair<double, int64_t>> samples_;
};

// "[=====>      ]" of `width` characters in all (brackets included); full when done == total.
// Empty when the total is unknown or width < 3.
std::string RenderBar(int64_t done, int64_t total, int width);
// "7s", "2m05s", "1h02m"; "-" for nonsense.
std::string FormatEta(double seconds);

struct FrameInput {
  const JobState* job = nullptr;
  std::optional<double> speed;  // bytes per second
  int width = 80;               // terminal columns; every line is cut to width - 1
  int max_lines = 24;           // the frame never exceeds this many lines
  std::string notice;           // a last line when not empty, e.g. "reconnecting…"
};

// The lines of one frame: a heading "NAME:TAG: STATUS", a line per layer, a total line, the
// notice.
// A failed or cancelled job has no total line and its error is left out (the caller reports
// it once, on stderr).
std::vector<std::string> RenderFrame(const FrameInput& in);

// Redraws frames in place: the escape sequences that move back over the previous frame
// (cursor up N), clear each line, write the new one, and clear what is left below.
class TerminalView {
 public:
  std::string Draw(const std::vector<std::string>& lines);
  // Forget the previous frame (after something else was printed below it).
  void Detach() { drawn_ = 0; }

 private:
  size_t drawn_ = 0;
};

// What the answer to pull's Ctrl-C prompt ("Cancel the download? [y/N/b]") asks for:
// "y"/"yes" cancel the download; "b"/"background" leave it running and stop watching; a
// second Ctrl-C (`interrupted`) aborts: cancels it and ends at once; anything else ("n",
// Enter) goes back to the progress view. Without a terminal to ask on (`answer` nullopt and
// not interrupted) the download is left running.
enum class InterruptChoice { kCancel, kBackground, kKeepWatching, kAbort };
InterruptChoice ChooseOnInterrupt(const std::optional<std::string>& answer, bool interrupted);

// For output that is not a terminal: a line when the status changes, when the percentage
// reaches a new multiple of 10, or (while the size is unknown) at most once a second. The
// error of a failed or cancelled job is left out, as in RenderFrame.
class PlainProgress {
 public:
  std::optional<std::string> Update(const JobState& job, double now_s);

 private:
  std::string status_;
  int decile_ = -1;
  double last_line_s_ = -1e9;
  int64_t last_bytes_ = -1;
};

}  // namespace wharf::cli
