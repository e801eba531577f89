#include "wharf/cli/sse.h"

#include <gtest/gtest.h>

namespace wharf::cli {
namespace {

TEST(SseParserTest, ParsesEventsSplitAnywhere) {
  const std::string stream =
      "id: 1\nevent: job\ndata: {\"status\":\"waiting\"}\n\n"
      ": ping\n\n"
      "id: 2\nevent: image\ndata: {\"action\":\"added\"}\n\n";
  // Every way of cutting the stream in two gives the same events.
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    SseParser p;
    auto events = p.Feed(stream.substr(0, cut));
    auto rest = p.Feed(stream.substr(cut));
    events.insert(events.end(), rest.begin(), rest.end());
    ASSERT_EQ(events.size(), 2u) << cut;
    EXPECT_EQ(events[0].id, "1");
    EXPECT_EQ(events[0].type, "job");
    EXPECT_EQ(events[0].data, "{\"status\":\"waiting\"}");
    EXPECT_EQ(events[1].id, "2");
    EXPECT_EQ(events[1].type, "image");
    EXPECT_EQ(p.last_event_id(), "2");
  }
}

TEST(SseParserTest, HandlesCrLfMultilineDataAndDefaults) {
  SseParser p;
  auto events = p.Feed("data:a\r\ndata: b\r\n\r\nevent: x\n\nid: 7\r\rdata\n\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "a\nb");
  EXPECT_EQ(events[0].type, "message");
  EXPECT_EQ(events[0].id, "");
  // "event: x" had no data: not dispatched, and its type does not leak into the next event.
  EXPECT_EQ(events[1].type, "message");
  EXPECT_EQ(events[1].data, "");
  EXPECT_EQ(events[1].id, "7");
}

TEST(SseParserTest, KeepsAnIncompleteEventForLater) {
  SseParser p;
  EXPECT_TRUE(p.Feed("id: 3\nevent: job\ndata: {}").empty());
  EXPECT_EQ(p.last_event_id(), "3");
  auto events = p.Feed("\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "{}");
}

}  // namespace
}  // namespace wharf::cli
