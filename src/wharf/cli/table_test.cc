#include "wharf/cli/table.h"

#include <gtest/gtest.h>

#include <utility>

namespace wharf::cli {
namespace {

TEST(TableTest, AlignsColumnsLikeDockerImages) {
  Table t({"NAME", "TAG", "SIZE"});
  t.AddRow({"ubuntu", "latest", "188MB"});
  t.AddRow({"sameersbn/redmine", "3.0.2", "618MB"});
  EXPECT_EQ(t.Render(),
            "NAME                TAG      SIZE\n"
            "ubuntu              latest   188MB\n"
            "sameersbn/redmine   3.0.2    618MB\n");
}

TEST(TableTest, PadsShortRowsAndLeavesNoTrailingSpaces) {
  Table t({"A", "B"});
  t.AddRow({"xyz"});
  t.AddRow({"1", "2", "dropped"});
  EXPECT_EQ(t.Render(), "A     B\nxyz\n1     2\n");
  EXPECT_EQ(t.rows(), 2u);
}

TEST(TableTest, MeasuresUtf8ByCharacters) {
  Table t({"N", "D"});
  t.AddRow({"é", "x"});
  t.AddRow({"ab", "y"});
  EXPECT_EQ(t.Render(), "N    D\né    x\nab   y\n");
  EXPECT_EQ(TextWidth("héllo…"), 6u);
}

TEST(TableTest, TruncatesWithAnEllipsis) {
  EXPECT_EQ(Truncate("short", 10), "short");
  EXPECT_EQ(Truncate("exactly10!", 10), "exactly10!");
  EXPECT_EQ(Truncate("a longer description", 10), "a longer …");
  EXPECT_EQ(Truncate("ééééé", 3), "éé…");
  EXPECT_EQ(Truncate("two\nlines\tand tab", 100), "two lines and tab");
}

TEST(HumanSizeTest, UsesSiUnitsWithThreeDigits) {
  struct Case {
    int64_t bytes;
    const char* text;
  };
  for (const Case& c : {Case{0, "0B"}, Case{999, "999B"}, Case{1000, "1kB"}, Case{1500, "1.5kB"},
                        Case{999'999, "1MB"}, Case{188'304'295, "188MB"},
                        Case{228'211'218, "228MB"}, Case{1'183'207'922, "1.18GB"},
                        Case{1'200'000'000, "1.2GB"}, Case{2'500'000'000'000, "2.5TB"}}) {
    EXPECT_EQ(HumanSize(c.bytes), c.text) << c.bytes;
  }
  EXPECT_EQ(HumanSize(-1), "-");
}

TEST(HumanAgeTest, UsesDockersWords) {
  constexpr int64_t kHour = 3600, kDay = 24 * kHour;
  const std::pair<int64_t, const char*> cases[] = {
      {-5, "Less than a second ago"},
      {0, "Less than a second ago"},
      {1, "1 second ago"},
      {59, "59 seconds ago"},
      {60, "About a minute ago"},
      {119, "About a minute ago"},
      {120, "2 minutes ago"},
      {59 * 60 + 59, "59 minutes ago"},
      {kHour, "About an hour ago"},
      {kHour + 1799, "About an hour ago"},
      {kHour + 1800, "2 hours ago"},
      {3 * kHour, "3 hours ago"},
      {47 * kHour, "47 hours ago"},
      {2 * kDay, "2 days ago"},
      {13 * kDay, "13 days ago"},
      {14 * kDay, "2 weeks ago"},
      {59 * kDay, "8 weeks ago"},
      {60 * kDay, "2 months ago"},
      {729 * kDay, "24 months ago"},
      {730 * kDay, "2 years ago"},
      {3650 * kDay, "10 years ago"},
  };
  for (const auto& [seconds, text] : cases) EXPECT_EQ(HumanAge(seconds), text) << seconds;
}

}  // namespace
}  // namespace wharf::cli
