#include "wharf/cli/progress.h"

#include <gtest/gtest.h>

#include "wharf/cli/table.h"

namespace wharf::cli {
namespace {

const std::string kA = "sha256:aaaaaaaaaaaa" + std::string(52, '1');
const std::string kB = "sha256:bbbbbbbbbbbb" + std::string(52, '2');
const std::string kC = "sha256:cccccccccccc" + std::string(52, '3');

JobState Downloading() {
  return ParseJobState(nlohmann::json::parse(R"({
    "type": "docker", "name": "lgsd/diamond", "tag": "latest", "status": "downloading",
    "bytes_done": 1500000, "bytes_total": 3000000, "percent": 50, "error": "",
    "layers": [
      {"digest": ")" + kA + R"(", "bytes_done": 1000000, "bytes_total": 1000000},
      {"digest": ")" + kB + R"(", "bytes_done": 500000, "bytes_total": 1000000},
      {"digest": ")" + kC + R"(", "bytes_done": 0, "bytes_total": 1000000}]})"));
}

TEST(ProgressTest, ParsesAJobEventAndToleratesOddFields) {
  JobState s = Downloading();
  EXPECT_EQ(s.name, "lgsd/diamond");
  EXPECT_EQ(s.status, "downloading");
  EXPECT_EQ(s.bytes_total, 3000000);
  ASSERT_TRUE(s.percent);
  EXPECT_EQ(*s.percent, 50);
  ASSERT_EQ(s.layers.size(), 3u);
  EXPECT_EQ(s.layers[1].bytes_done, 500000);
  EXPECT_FALSE(s.finished());

  JobState odd = ParseJobState(nlohmann::json::parse(
      R"({"status": "waiting", "percent": null, "bytes_total": "big", "layers": [1]})"));
  EXPECT_FALSE(odd.percent);
  EXPECT_EQ(odd.bytes_total, -1);
  EXPECT_TRUE(odd.layers.empty());
  EXPECT_TRUE(ParseJobState(nlohmann::json::parse(R"({"status": "failed"})")).finished());
}

TEST(ProgressTest, DrawsBarsLikeDocker) {
  EXPECT_EQ(RenderBar(0, 100, 12), "[>         ]");
  EXPECT_EQ(RenderBar(50, 100, 12), "[=====>    ]");
  EXPECT_EQ(RenderBar(100, 100, 12), "[==========]");
  EXPECT_EQ(RenderBar(150, 100, 12), "[==========]");
  EXPECT_EQ(RenderBar(5, -1, 12), "");
  EXPECT_EQ(RenderBar(5, 10, 2), "");
}

TEST(ProgressTest, FormatsEta) {
  EXPECT_EQ(FormatEta(6.2), "7s");
  EXPECT_EQ(FormatEta(125), "2m05s");
  EXPECT_EQ(FormatEta(3720), "1h02m");
  EXPECT_EQ(FormatEta(-1), "-");
  EXPECT_EQ(FormatEta(1.0 / 0.0), "-");
}

TEST(ProgressTest, MeasuresSpeedOverAWindow) {
  SpeedMeter m(5.0);
  EXPECT_FALSE(m.BytesPerSecond());
  m.Add(0.0, 0);
  m.Add(1.0, 1000);
  EXPECT_DOUBLE_EQ(*m.BytesPerSecond(), 1000.0);
  for (int t = 2; t <= 20; ++t) m.Add(t, 1000 + (t - 1) * 4000);
  EXPECT_DOUBLE_EQ(*m.BytesPerSecond(), 4000.0);  // the slow start left the window
}

TEST(ProgressTest, FrameHasAHeadingALinePerLayerAndATotal) {
  JobState s = Downloading();
  auto lines = RenderFrame({&s, 250000.0, 120, 40});
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "lgsd/diamond:latest: downloading");
  EXPECT_EQ(lines[1], "aaaaaaaaaaaa: Download complete");
  EXPECT_TRUE(lines[2].starts_with("bbbbbbbbbbbb: Downloading [")) << lines[2];
  EXPECT_NE(lines[2].find(">"), std::string::npos);
  EXPECT_TRUE(lines[2].ends_with("]  500kB/1MB")) << lines[2];
  EXPECT_EQ(lines[3], "cccccccccccc: Waiting");
  EXPECT_TRUE(lines[4].starts_with("Total")) << lines[4];
  EXPECT_NE(lines[4].find("  50%"), std::string::npos) << lines[4];
  EXPECT_NE(lines[4].find("1.5MB/3MB"), std::string::npos) << lines[4];
  EXPECT_NE(lines[4].find("250kB/s"), std::string::npos) << lines[4];
  EXPECT_NE(lines[4].find("ETA 6s"), std::string::npos) << lines[4];
  for (const auto& line : lines) EXPECT_LT(line.size(), 120u) << line;
}

TEST(ProgressTest, FinishedFrameShowsAHundredPercent) {
  JobState s = Downloading();
  s.status = "done";
  s.percent = 100;
  auto lines = RenderFrame({&s, 250000.0, 120, 40});
  EXPECT_EQ(lines[0], "lgsd/diamond:latest: done");
  EXPECT_EQ(lines[3], "cccccccccccc: Pull complete");
  EXPECT_NE(lines[4].find("[" + std::string(50, '=') + "]"), std::string::npos) << lines[4];
  EXPECT_NE(lines[4].find("100%"), std::string::npos) << lines[4];
  EXPECT_NE(lines[4].find("3MB/3MB"), std::string::npos) << lines[4];
  EXPECT_EQ(lines[4].find("ETA"), std::string::npos) << lines[4];
}

TEST(ProgressTest, FrameFitsNarrowAndShortTerminals) {
  JobState s = Downloading();
  for (int width : {20, 40, 60, 200}) {
    for (const auto& line : RenderFrame({&s, 1000.0, width, 40})) {
      EXPECT_LE(TextWidth(line), static_cast<size_t>(std::max(width - 1, 10))) << line;
    }
  }
  auto lines = RenderFrame({&s, std::nullopt, 120, 4});
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2], "… and 2 more layers");
  EXPECT_TRUE(lines[3].starts_with("Total"));
}

TEST(ProgressTest, TerminalViewRedrawsInPlace) {
  TerminalView view;
  EXPECT_EQ(view.Draw({"a", "b"}), "\r\x1b[2Ka\n\r\x1b[2Kb\n\x1b[J");
  EXPECT_EQ(view.Draw({"c"}), "\x1b[2A\r\x1b[2Kc\n\x1b[J");
  view.Detach();
  EXPECT_EQ(view.Draw({"d"}), "\r\x1b[2Kd\n\x1b[J");
}

TEST(ProgressTest, PlainLinesOnStatusChangesAndEveryTenPercent) {
  PlainProgress plain;
  JobState s;
  s.name = "app";
  s.tag = "v1";
  s.status = "waiting";
  EXPECT_EQ(*plain.Update(s, 0.0), "app:v1: waiting");
  EXPECT_FALSE(plain.Update(s, 0.5));
  s.status = "downloading";
  s.bytes_total = 1000;
  std::vector<std::string> lines;
  for (int done = 0; done <= 990; done += 10) {
    s.bytes_done = done;
    s.percent = done / 10;
    if (auto line = plain.Update(s, done / 100.0)) lines.push_back(*line);
  }
  ASSERT_EQ(lines.size(), 10u);  // 0%, 10%, ... 90%
  EXPECT_EQ(lines[0], "app:v1: downloading 0% (0B/1kB)");
  EXPECT_EQ(lines[4], "app:v1: downloading 40% (400B/1kB)");
  s.status = "done";
  EXPECT_EQ(*plain.Update(s, 20.0), "app:v1: done 100% (1kB/1kB)");
  s.status = "failed";
  s.error = "manifest unknown";
  EXPECT_EQ(*plain.Update(s, 21.0), "app:v1: failed");  // the error goes to stderr, once
}

TEST(ProgressTest, AFailedFrameHasNoTotalAndLeavesTheErrorToTheCaller) {
  JobState s;
  s.name = "nosuch";
  s.tag = "latest";
  s.status = "failed";
  s.error = "repository not found in docker.io";
  auto lines = RenderFrame({&s, std::nullopt, 80, 24});
  EXPECT_EQ(lines, std::vector<std::string>{"nosuch:latest: failed"});
}

TEST(ProgressTest, PlainLinesAtMostOncePerSecondWithoutASize) {
  PlainProgress plain;
  JobState s;
  s.name = "app";
  s.tag = "v1";
  s.status = "downloading";
  EXPECT_TRUE(plain.Update(s, 0.0));
  s.bytes_done = 10;
  EXPECT_FALSE(plain.Update(s, 0.5));
  s.bytes_done = 20;
  EXPECT_EQ(*plain.Update(s, 1.1), "app:v1: downloading (20B)");
  EXPECT_FALSE(plain.Update(s, 3.0));  // nothing new
}

TEST(ProgressTest, TheNoticeIsTheLastLineEvenOnAShortTerminal) {
  JobState s = Downloading();
  FrameInput in{&s, std::nullopt, 80, 24, "reconnecting to wharfd… (try 2)"};
  auto lines = RenderFrame(in);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines.back(), "reconnecting to wharfd… (try 2)");
  in.max_lines = 3;
  lines = RenderFrame(in);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "lgsd/diamond:latest: downloading");
  EXPECT_EQ(lines.back(), "reconnecting to wharfd… (try 2)");
  in.notice.clear();
  EXPECT_EQ(RenderFrame(in).size(), 3u);
  EXPECT_NE(RenderFrame(in).back().find("reconnecting"), 0u);
}

TEST(ProgressTest, TheAnswerToCtrlCChoosesWhatHappens) {
  struct Case {
    std::optional<std::string> answer;
    bool interrupted;
    InterruptChoice want;
  };
  const Case cases[] = {
      {"y", false, InterruptChoice::kCancel},
      {" YES ", false, InterruptChoice::kCancel},
      {"b", false, InterruptChoice::kBackground},
      {"background", false, InterruptChoice::kBackground},
      {"n", false, InterruptChoice::kKeepWatching},
      {"", false, InterruptChoice::kKeepWatching},
      {"maybe", false, InterruptChoice::kKeepWatching},
      {std::nullopt, true, InterruptChoice::kAbort},  // the second Ctrl-C
      {"y", true, InterruptChoice::kAbort},
      {std::nullopt, false, InterruptChoice::kBackground},  // no terminal to ask on
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ChooseOnInterrupt(c.answer, c.interrupted), c.want) << c.answer.value_or("<none>");
  }
}

}  // namespace
}  // namespace wharf::cli
