// The import path `wharf load` posts to: the file's label and the untagged image's name,
// escaped as query values.
#include "wharf/cli/load.h"

#include <gtest/gtest.h>

namespace wharf::cli {
namespace {

TEST(ImportPathTest, EscapesTheLabelAndTheTag) {
  EXPECT_EQ(ImportPath("busybox.tar", ""), "/api/v1/image/import?file=busybox.tar");
  EXPECT_EQ(ImportPath("my images.tar.gz", "team/app:1.0"),
            "/api/v1/image/import?file=my%20images.tar.gz&tag=team%2Fapp%3A1.0");
}

}  // namespace
}  // namespace wharf::cli
