#include "wharf/registry/link_header.h"

#include <gtest/gtest.h>

namespace wharf::registry {
namespace {

TEST(LinkHeaderTest, NextTarget) {
  struct Case {
    std::vector<std::string> values;
    std::string want;
  };
  const Case cases[] = {
      {{}, ""},
      {{R"(</v2/_catalog?last=b&n=100>; rel="next")"}, "/v2/_catalog?last=b&n=100"},
      {{"<http://h:5000/v2/_catalog?n=2&last=x>; rel=next"},
       "http://h:5000/v2/_catalog?n=2&last=x"},
      {{R"(</a>; REL="Next")"}, "/a"},
      {{R"(</prev>; rel="prev", </next>; rel="next")"}, "/next"},
      {{R"(</prev>; rel="prev")", R"(</next>; rel="next")"}, "/next"},
      {{R"(</both>; rel="prev next")"}, "/both"},
      {{R"(</x>; title="next"; rel="last")"}, ""},
      {{R"(</x>; prerel="next")"}, ""},
      {{R"(</x>; type="text/html"; rel="next")"}, "/x"},
      {{"<unclosed; rel=next"}, ""},
      {{R"(</nextpage>; rel="nextish")"}, ""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(NextLinkTarget(c.values), c.want) << (c.values.empty() ? "" : c.values[0]);
  }
}

}  // namespace
}  // namespace wharf::registry
