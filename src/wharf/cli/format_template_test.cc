#include "wharf/cli/format_template.h"

#include <gtest/gtest.h>

namespace wharf::cli {
namespace {

const nlohmann::json kImage = nlohmann::json::parse(R"({
  "Id": "sha256:abc",
  "RepoTags": ["busybox:1.36", "busybox:latest"],
  "Size": 4261550,
  "Ratio": 0.5,
  "Config": {"Env": ["A=1", "B=2"], "Cmd": null, "Labels": {"z": "1", "a": "x"},
             "Deep": {"Er": {"Est": true}}},
  "RootFS": {"Type": "layers", "Layers": ["sha256:l1"]}
})");

struct Case {
  const char* format;
  const char* want;
};

TEST(FormatTemplateTest, RendersLikeDockerInspect) {
  const Case cases[] = {
      {"{{.Id}}", "sha256:abc"},
      {"{{ .Id }}", "sha256:abc"},
      {"{{.Config.Env}}", "[A=1 B=2]"},
      {"{{.RepoTags}}", "[busybox:1.36 busybox:latest]"},
      {"{{json .RootFS}}", R"({"Layers":["sha256:l1"],"Type":"layers"})"},
      {"{{.RootFS | json}}", R"({"Layers":["sha256:l1"],"Type":"layers"})"},
      {"{{json .Config.Env}}", R"(["A=1","B=2"])"},
      {"id={{.Id}} size={{.Size}}!", "id=sha256:abc size=4261550!"},
      {"{{.Config.Deep.Er.Est}}", "true"},
      {"{{.Config.Labels}}", "map[a:x z:1]"},
      {"{{.Config.Cmd}}", "<nil>"},
      {"{{.Ratio}}", "0.5"},
      {"{{.Nope}}", "<no value>"},
      {"{{.Config.Nope}}", "<no value>"},
      {"{{json .Nope}}", "null"},
      {"plain text", "plain text"},
      {"", ""},
      {"{{.RootFS.Type}}/{{.Config.Env}}", "layers/[A=1 B=2]"},
  };
  for (const auto& c : cases) {
    auto t = FormatTemplate::Parse(c.format);
    ASSERT_TRUE(t) << c.format << ": " << t.error().message;
    auto out = t->Render(kImage);
    ASSERT_TRUE(out) << c.format << ": " << out.error().message;
    EXPECT_EQ(*out, c.want) << c.format;
  }
}

TEST(FormatTemplateTest, RefusesWhatItDoesNotKnowNamingIt) {
  const Case cases[] = {
      {"{{.Id", "unclosed action at offset 0"},
      {"{{range .RepoTags}}", "\"range\""},
      {"{{upper .Id}}", "\"upper\""},
      {"{{.Id | upper}}", "\"upper\""},
      {"{{Id}}", "\"Id\""},
      {"{{.A..B}}", "not a field path"},
      {"{{}}", "not a field path"},
  };
  for (const auto& c : cases) {
    auto t = FormatTemplate::Parse(c.format);
    ASSERT_FALSE(t) << c.format;
    EXPECT_EQ(t.error().code, Code::kInvalidArgument);
    EXPECT_NE(t.error().message.find(c.want), std::string::npos) << t.error().message;
  }
}

TEST(FormatTemplateTest, AFieldOfSomethingNotAnObjectIsAnErrorNamingIt) {
  const Case cases[] = {
      {"{{.Id.Short}}", "field Short in a string (.Id)"},
      {"{{.RepoTags.First}}", "field First in a array (.RepoTags)"},
      {"{{.Nope.Deeper}}", "field Deeper in a missing value (.Nope)"},
      {"{{.Config.Cmd.X}}", "field X in a null (.Config.Cmd)"},
  };
  for (const auto& c : cases) {
    auto t = FormatTemplate::Parse(c.format);
    ASSERT_TRUE(t) << c.format;
    auto out = t->Render(kImage);
    ASSERT_FALSE(out) << c.format;
    EXPECT_EQ(out.error().code, Code::kInvalidArgument);
    EXPECT_NE(out.error().message.find(c.want), std::string::npos) << out.error().message;
  }
}

TEST(FormatTemplateTest, GoFormatOfScalars) {
  EXPECT_EQ(GoFormat(nlohmann::json(42)), "42");
  EXPECT_EQ(GoFormat(nlohmann::json(-7)), "-7");
  EXPECT_EQ(GoFormat(nlohmann::json(false)), "false");
  EXPECT_EQ(GoFormat(nlohmann::json::array()), "[]");
  EXPECT_EQ(GoFormat(nlohmann::json::object()), "map[]");
  EXPECT_EQ(GoFormat(nlohmann::json::parse(R"([["a","b"],{"k":1}])")), "[[a b] map[k:1]]");
}

}  // namespace
}  // namespace wharf::cli
