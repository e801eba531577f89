#include "wharf/cli/api_client.h"

#include <gtest/gtest.h>

namespace wharf::cli {
namespace {

TEST(ApiClientTest, ServerMessagesAreInTheCommandLinesWords) {
  auto bad = StatusFromHttp(
      400, R"({"error": {"code": 400, "message": "image_name: invalid reference \"Bad_Name\""}})");
  EXPECT_EQ(bad.code, Code::kInvalidArgument);
  EXPECT_EQ(bad.message, "invalid reference \"Bad_Name\"");
  EXPECT_EQ(InUserWords("image_tag: invalid tag \"a b\""), "invalid tag \"a b\"");
  EXPECT_EQ(InUserWords("image_type: must be docker or lxc"), "--type: must be docker or lxc");
  EXPECT_EQ(InUserWords("depot: unknown"), "--from: unknown");
  EXPECT_EQ(InUserWords("Image not found: x"), "Image not found: x");
  auto missing = StatusFromHttp(404, R"({"error": {"code": 404, "message": "no such user"}})");
  EXPECT_EQ(missing.code, Code::kNotFound);
  EXPECT_EQ(missing.message, "no such user");
  EXPECT_EQ(StatusFromHttp(502, "oops").message, "HTTP 502 from wharfd: oops");
}

}  // namespace
}  // namespace wharf::cli
