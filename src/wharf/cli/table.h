// Text output helpers: tables aligned like `docker images` and human-readable sizes. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wharf::cli {

// A table with a header row. Columns are padded to their widest cell (in characters, not
// bytes, so UTF-8 descriptions line up) and separated by three spaces, as docker's
// tabwriter does; the last column is not padded, so lines carry no trailing spaces.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  // A row shorter than the header is padded with empty cells; a longer one is cut.
  void AddRow(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }
  // A column Render may narrow to fit a width: down to `floor` characters (never below its
  // header's width; cut cells end in "…"), then, when `drop`, left out altogether.
  struct Shrink {
    size_t column;
    size_t floor = 0;
    bool drop = false;
  };
  // The columns that give way to a width, the first first.
  void ShrinkFirst(std::vector<Shrink> order) { shrink_ = std::move(order); }
  // Every line ends with '\n'. With `max_width` > 0 the lines are kept to it as far as the
  // ShrinkFirst columns allow; 0 means no limit.
  std::string Render(size_t max_width = 0) const;

 private:
  static constexpr size_t kDropped = static_cast<size_t>(-1);
  std::vector<size_t> Widths(size_t max_width) const;  // kDropped for a left-out column

  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<Shrink> shrink_;
};

// Display width of UTF-8 text: its number of code points.
size_t TextWidth(std::string_view text);

// `text` cut to at most `max` characters, the last one "…" when cut; newlines and tabs
// become spaces so a cell stays on one line.
std::string Truncate(std::string_view text, size_t max);

// Bytes in SI units with three significant digits, as docker shows them: 0 → "0B",
// 188304295 → "188MB", 1183207922 → "1.18GB", 1200000000 → "1.2GB". Negative → "-".
std::string HumanSize(int64_t bytes);

// How long ago something happened, in the words docker uses for its CREATED column:
// "Less than a second ago", "1 second ago", "45 seconds ago", "About a minute ago",
// "12 minutes ago", "About an hour ago", "3 hours ago" (up to 47), then days (up to 13),
// weeks (up to 8), months (30 days, up to 23) and years. A negative age (a clock ahead of
// this one) counts as none.
std::string HumanAge(int64_t seconds);

}  // namespace wharf::cli
