#include "wharf/cli/progress.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "wharf/cli/table.h"

namespace wharf::cli {

namespace {

constexpr int kLabelWidth = 26;  // "0123456789ab: Downloading " and "Total" padded alike
constexpr int kMaxBar = 52;      // docker's 50 cells plus the brackets

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t Int(const nlohmann::json& j, const char* key, int64_t fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : fallback;
}

std::string ShortDigest(const std::string& digest) {
  size_t colon = digest.find(':');
  std::string hex = colon == std::string::npos ? digest : digest.substr(colon + 1);
  return hex.substr(0, 12);
}

std::string Pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::optional<int> PercentOf(const JobState& job) {
  if (job.status == "done") return 100;
  if (job.percent) return job.percent;
  if (job.bytes_total > 0) {
    return static_cast<int>(std::clamp<int64_t>(job.bytes_done * 100 / job.bytes_total, 0, 100));
  }
  return std::nullopt;
}

// "[bar]  12.3MB/45.6MB" sized to what is left of the line, or just the sizes.
std::string BarAndSizes(int64_t done, int64_t total, int room) {
  std::string sizes = total >= 0 ? HumanSize(done) + "/" + HumanSize(total) : HumanSize(done);
  int bar_width = std::min(kMaxBar, room - 2 - static_cast<int>(sizes.size()));
  if (total <= 0 || bar_width < 12) return sizes;
  return RenderBar(done, total, bar_width) + "  " + sizes;
}

std::string LayerLine(const LayerState& layer, const JobState& job, int room) {
  std::string head = ShortDigest(layer.digest) + ": ";
  if (job.status == "done") return head + "Pull complete";
  if (layer.bytes_total > 0 && layer.bytes_done >= layer.bytes_total) {
    return head + "Download complete";
  }
  if (layer.bytes_done == 0) return head + (job.finished() ? "Stopped" : "Waiting");
  return Pad(head + "Downloading", kLabelWidth) +
         BarAndSizes(layer.bytes_done, layer.bytes_total, room - kLabelWidth);
}

std::string TotalLine(const JobState& job, std::optional<double> speed, int room) {
  std::string line = Pad("Total", kLabelWidth);
  std::optional<int> percent = PercentOf(job);
  std::string tail;
  if (percent) tail += "  " + std::to_string(*percent) + "%";
  if (job.status == "downloading" && speed && *speed > 0) {
    tail += "  " + HumanSize(static_cast<int64_t>(*speed)) + "/s";
    if (job.bytes_total > 0) {
      tail += "  ETA " + FormatEta(static_cast<double>(job.bytes_total - job.bytes_done) / *speed);
    }
  }
  int64_t done = job.status == "done" && job.bytes_total > 0 ? job.bytes_total : job.bytes_done;
  int64_t total = job.bytes_total;
  if (percent && total <= 0) total = done;  // finished with no size reported
  if (total < 0 && done == 0 && !percent) return line + "-";
  std::string sizes = total >= 0 ? HumanSize(done) + "/" + HumanSize(total) : HumanSize(done);
  int bar_width =
      std::min(kMaxBar, room - kLabelWidth - static_cast<int>(sizes.size() + tail.size()) - 2);
  if (total > 0 && bar_width >= 12) line += RenderBar(done, total, bar_width) + "  ";
  return line + sizes + tail;
}

}  // namespace

JobState ParseJobState(const nlohmann::json& j) {
  JobState s;
  if (!j.is_object()) return s;
  s.type = Str(j, "type");
  s.name = Str(j, "name");
  s.tag = Str(j, "tag");
  s.status = Str(j, "status");
  s.bytes_done = Int(j, "bytes_done", 0);
  s.bytes_total = Int(j, "bytes_total", -1);
  if (auto it = j.find("percent"); it != j.end() && it->is_number()) {
    s.percent = static_cast<int>(std::clamp<int64_t>(it->get<int64_t>(), 0, 100));
  }
  s.error = Str(j, "error");
  if (auto it = j.find("layers"); it != j.end() && it->is_array()) {
    for (const auto& l : *it) {
      if (!l.is_object()) continue;
      s.layers.push_back({Str(l, "digest"), Int(l, "bytes_done", 0), Int(l, "bytes_total", -1)});
    }
  }
  return s;
}

void SpeedMeter::Add(double now_s, int64_t bytes_done) {
  if (!samples_.empty() && bytes_done < samples_.back().second) samples_.clear();  // restarted
  samples_.emplace_back(now_s, bytes_done);
  while (samples_.size() > 2 && now_s - samples_.front().first > window_s_) samples_.pop_front();
}

std::optional<double> SpeedMeter::BytesPerSecond() const {
  if (samples_.size() < 2) return std::nullopt;
  double dt = samples_.back().first - samples_.front().first;
  if (dt < 0.2) return std::nullopt;
  return static_cast<double>(samples_.back().second - samples_.front().second) / dt;
}

std::string RenderBar(int64_t done, int64_t total, int width) {
  if (total <= 0 || width < 3) return {};
  int cells = width - 2;
  double fraction = std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0);
  int filled = static_cast<int>(fraction * cells);
  std::string bar = "[";
  if (filled >= cells) {
    bar.append(cells, '=');
  } else {
    bar.append(filled, '=');
    bar += '>';
    bar.append(cells - filled - 1, ' ');
  }
  return bar + "]";
}

std::string FormatEta(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 100.0 * 3600) return "-";
  auto s = static_cast<int64_t>(std::ceil(seconds));
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60));
  }
  return buf;
}

std::vector<std::string> RenderFrame(const FrameInput& in) {
  const JobState& job = *in.job;
  const int room = std::max(in.width - 1, 10);
  std::vector<std::string> lines;
  const bool failed = job.finished() && job.status != "done";
  std::string heading = job.name + ":" + job.tag + ": " + job.status;
  if (!job.error.empty() && !failed) heading += ": " + job.error;  // the caller reports it
  lines.push_back(heading);
  size_t fit = static_cast<size_t>(std::max(in.max_lines - 2, 0));
  size_t shown = job.layers.size() <= fit ? job.layers.size() : (fit > 0 ? fit - 1 : 0);
  for (size_t i = 0; i < shown; ++i) lines.push_back(LayerLine(job.layers[i], job, room));
  if (shown < job.layers.size()) {
    lines.push_back("… and " + std::to_string(job.layers.size() - shown) + " more layers");
  }
  if (!failed) lines.push_back(TotalLine(job, in.speed, room));
  for (auto& line : lines) line = Truncate(line, static_cast<size_t>(room));
  const size_t limit = static_cast<size_t>(std::max(in.max_lines, 1));
  const size_t keep = in.notice.empty() ? limit : std::max<size_t>(limit - 1, 1);
  if (lines.size() > keep) lines.resize(keep);
  if (!in.notice.empty() && lines.size() < limit) {
    lines.push_back(Truncate(in.notice, static_cast<size_t>(room)));
  }
  return lines;
}

std::string TerminalView::Draw(const std::vector<std::string>& lines) {
  std::string out;
  if (drawn_ > 0) out += "\x1b[" + std::to_string(drawn_) + "A";
  for (const auto& line : lines) out += "\r\x1b[2K" + line + "\n";
  out += "\x1b[J";
  drawn_ = lines.size();
  return out;
}

InterruptChoice ChooseOnInterrupt(const std::optional<std::string>& answer, bool interrupted) {
  if (interrupted) return InterruptChoice::kAbort;
  if (!answer) return InterruptChoice::kBackground;
  std::string a;
  for (char c : *answer) {
    if (c != ' ' && c != '\t') a += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (a == "y" || a == "yes") return InterruptChoice::kCancel;
  if (a == "b" || a == "background") return InterruptChoice::kBackground;
  return InterruptChoice::kKeepWatching;
}

std::optional<std::string> PlainProgress::Update(const JobState& job, double now_s) {
  std::optional<int> percent = PercentOf(job);
  bool emit = false;
  if (job.status != status_) {
    emit = true;
  } else if (job.status == "downloading") {
    if (percent) {
      emit = *percent / 10 > decile_;
    } else {
      emit = job.bytes_done != last_bytes_ && now_s - last_line_s_ >= 1.0;
    }
  }
  if (!emit) return std::nullopt;
  status_ = job.status;
  decile_ = percent ? *percent / 10 : -1;
  last_line_s_ = now_s;
  last_bytes_ = job.bytes_done;

  std::string line = job.name + ":" + job.tag + ": " + job.status;
  if (job.status == "downloading" || job.status == "done") {
    if (percent) line += " " + std::to_string(*percent) + "%";
    int64_t done = job.status == "done" && job.bytes_total > 0 ? job.bytes_total : job.bytes_done;
    if (job.bytes_total > 0) {
      line += " (" + HumanSize(done) + "/" + HumanSize(job.bytes_total) + ")";
    } else if (done > 0) {
      line += " (" + HumanSize(done) + ")";
    }
  }
  if (!job.error.empty() && !job.finished()) line += ": " + job.error;  // else the caller's
  return line;
}

}  // namespace wharf::cli
