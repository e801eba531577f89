#include "wharf/cli/save.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include "wharf/cli/output_file.h"
#include "wharf/cli/progress.h"
#include "wharf/cli/table.h"
#include "wharf/cli/terminal.h"

namespace wharf::cli {

namespace {

constexpr long kIdleTimeoutS = 120;
constexpr double kFrameIntervalS = 0.1;
constexpr int kMaxBar = 52;

double Now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// The progress line, redrawn in place on stderr (only when it is a terminal).
class SaveProgress {
 public:
  SaveProgress(std::string label, bool shown) : label_(std::move(label)), shown_(shown) {}
  void SetTotal(int64_t total) { total_ = total; }
  int64_t done() const { return done_; }
  int64_t total() const { return total_; }
  void Add(size_t bytes) {
    done_ += static_cast<int64_t>(bytes);
    double now = Now();
    speed_.Add(now, done_);
    if (now - last_draw_s_ >= kFrameIntervalS) Draw(now);
  }
  // The last frame, and the end of its line.
  void Finish() {
    if (!shown_ || last_draw_s_ < 0) return;
    Draw(Now());
    std::fputs("\n", stderr);
  }

 private:
  void Draw(double now) {
    last_draw_s_ = now;
    if (!shown_) return;
    std::string line = SaveProgressLine(label_, done_, total_, speed_.BytesPerSecond(),
                                        TerminalWidth(STDERR_FILENO));
    std::fprintf(stderr, "\r\x1b[2K%s", line.c_str());
    std::fflush(stderr);
  }

  std::string label_;
  bool shown_;
  int64_t done_ = 0;
  int64_t total_ = -1;
  SpeedMeter speed_;
  double last_draw_s_ = -1;
};

std::string Label(const std::vector<std::string>& images) {
  std::string label = "Saving " + images.front();
  if (images.size() > 1) label += " and " + std::to_string(images.size() - 1) + " more";
  return label;
}

Result<std::unique_ptr<OutputFile>> OpenOutput(const std::string& output) {
  if (!output.empty()) return OutputFile::Create(output);
  if (IsTerminal(STDOUT_FILENO)) {
    return InvalidArgument(
        "cowardly refusing to write to a terminal; use -o FILE or redirect stdout");
  }
  return OutputFile::Stdout();
}

}  // namespace

std::string ExportPath(const std::vector<std::string>& images, const std::string& format) {
  std::string path = "/api/v1/image/export?format=" + EscapeQuery(format);
  for (const auto& image : images) path += "&image=" + EscapeQuery(image);
  return path;
}

std::string SaveProgressLine(const std::string& label, int64_t done, int64_t total,
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

Result<void> Save(const ApiClient& api, const SaveRequest& r) {
  if (r.images.empty()) return InvalidArgument("name at least one image to save");
  WHARF_ASSIGN_OR_RETURN(auto out, OpenOutput(r.output));
  InterruptCatcher catcher;  // Ctrl-C stops the transfer here, and the file is not left
  SaveProgress progress(Label(r.images), IsTerminal(STDERR_FILENO));
  std::optional<Status> failed;
  bool interrupted = false;
  ApiClient::StreamHandlers handlers;
  handlers.on_size = [&](int64_t size) { progress.SetTotal(size); };
  handlers.on_data = [&](std::string_view chunk) {
    if (auto written = out->Write(chunk); !written) {
      failed = written.error();
      return false;
    }
    progress.Add(chunk.size());
    return true;
  };
  handlers.should_stop = [&] { return interrupted = interrupted || InterruptCatcher::Take(); };
  auto got = api.Download(ExportPath(r.images, r.format), handlers, kIdleTimeoutS);
  progress.Finish();
  if (failed) return Error(*failed);
  if (interrupted) return Cancelled("wharf save was interrupted");
  if (!got) return Error(got.error());
  if (progress.total() >= 0 && progress.done() != progress.total()) {
    return Unavailable("the archive ended after " + std::to_string(progress.done()) + " of " +
                       std::to_string(progress.total()) + " bytes");
  }
  return out->Commit();
}

}  // namespace wharf::cli
