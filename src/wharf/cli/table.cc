#include "wharf/cli/table.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace wharf::cli {

namespace {

constexpr std::string_view kGap = "   ";

}  // namespace

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

std::vector<size_t> Table::Widths(size_t max_width) const {
  std::vector<size_t> widths(headers_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], TextWidth(row[i]));
  };
  measure(headers_);
  for (const auto& row : rows_) measure(row);
  if (max_width == 0 || widths.empty()) return widths;
  size_t total = kGap.size() * (widths.size() - 1);
  for (size_t w : widths) total += w;
  for (const Shrink& s : shrink_) {
    if (total <= max_width) break;
    if (s.column >= widths.size() || widths[s.column] == kDropped) continue;
    size_t& width = widths[s.column];
    size_t floor = std::min(width, std::max(s.floor, TextWidth(headers_[s.column])));
    size_t cut = std::min(total - max_width, width - floor);
    width -= cut;
    total -= cut;
    if (total > max_width && s.drop) {
      total -= width + kGap.size();
      width = kDropped;
    }
  }
  return widths;
}

std::string Table::Render(size_t max_width) const {
  const std::vector<size_t> widths = Widths(max_width);
  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths[i] == kDropped) continue;
      const std::string cell = TextWidth(row[i]) > widths[i] ? Truncate(row[i], widths[i]) : row[i];
      line += cell;
      line.append(widths[i] - TextWidth(cell), ' ');
      line += kGap;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();  // empty last cells
    out += line;
    out += '\n';
  };
  emit(headers_);
  for (const auto& row : rows_) emit(row);
  return out;
}

size_t TextWidth(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // not a continuation byte
  }));
}

std::string Truncate(std::string_view text, size_t max) {
  std::string flat(text);
  std::replace_if(
      flat.begin(), flat.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  if (TextWidth(flat) <= max) return flat;
  if (max == 0) return {};
  // Keep max-1 code points, then the ellipsis.
  size_t kept = 0;
  size_t cut = 0;
  for (; cut < flat.size(); ++cut) {
    if ((static_cast<unsigned char>(flat[cut]) & 0xC0) != 0x80) {
      if (kept == max - 1) break;
      ++kept;
    }
  }
  return flat.substr(0, cut) + "…";
}

std::string HumanSize(int64_t bytes) {
  if (bytes < 0) return "-";
  static constexpr std::array<const char*, 7> kUnits = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  double size = static_cast<double>(bytes);
  size_t unit = 0;
  // 999.5 would print as "1e+03" with three significant digits: move up a unit instead.
  while (size >= 999.5 && unit + 1 < kUnits.size()) {
    size /= 1000.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g%s", size, kUnits[unit]);
  return buf;
}

std::string HumanAge(int64_t seconds) {
  auto ago = [](int64_t n, const char* unit) { return std::to_string(n) + " " + unit + "s ago"; };
  if (seconds < 1) return "Less than a second ago";
  if (seconds == 1) return "1 second ago";
  if (seconds < 60) return ago(seconds, "second");
  const int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute ago";
  if (minutes < 60) return ago(minutes, "minute");
  const int64_t hours = (seconds + 1800) / 3600;  // rounded, as docker does
  if (hours == 1) return "About an hour ago";
  if (hours < 48) return ago(hours, "hour");
  if (hours < 24 * 7 * 2) return ago(hours / 24, "day");
  if (hours < 24 * 30 * 2) return ago(hours / 24 / 7, "week");
  if (hours < 24 * 365 * 2) return ago(hours / 24 / 30, "month");
  return ago(seconds / 3600 / 24 / 365, "year");
}

}  // namespace wharf::cli
