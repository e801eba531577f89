#include "wharf/engine/engine.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace wharf::engine {
namespace {

namespace fs = std::filesystem;

TEST(EngineTest, ReferenceIsTheCanonicalNameAndTag) {
  metadata::ImageRecord image;
  image.name = "docker.io/library/ubuntu";
  image.display_name = "ubuntu";
  image.tag = "latest";
  EXPECT_EQ(EngineReference(image), "docker.io/library/ubuntu:latest");
  image.name = "ghcr.io/x/y";
  image.tag = "t";
  EXPECT_EQ(EngineReference(image), "ghcr.io/x/y:t");
  image.tag = "sha256:" + std::string(64, 'a');
  EXPECT_EQ(EngineReference(image), "") << "a by-digest image is loaded untagged";
}

TEST(EngineTest, LoadOutcomeReadsBothEnginesAnswers) {
  struct Case {
    long status;
    std::string body;
    bool ok;
    std::string mentions;
  };
  const Case cases[] = {
      {200, "{\"stream\":\"Loaded image: ubuntu:latest\\n\"}\n", true, "Loaded image: ubuntu"},
      {200, "{\"stream\":\"Loaded image: docker.io/library/ubuntu:latest\\n\"}", true, "docker.io"},
      // Docker reports a bad archive in the body of a 200.
      {200,
       "{\"stream\":\"Loading layer\"}\r\n{\"errorDetail\":{\"message\":\"unexpected EOF\"},"
       "\"error\":\"unexpected EOF\"}\r\n",
       false, "unexpected EOF"},
      {500, R"({"cause":"bad","message":"payload does not match any of the supported formats"})",
       false, "supported formats"},
      {400, "not json", false, "HTTP 400: not json"},
      {200, "", true, ""},
  };
  for (const auto& c : cases) {
    auto outcome = LoadOutcome(c.status, c.body);
    EXPECT_EQ(outcome.has_value(), c.ok) << c.body;
    std::string text = outcome ? *outcome : outcome.error().message;
    EXPECT_NE(text.find(c.mentions), std::string::npos) << text;
    if (!outcome) {
      EXPECT_EQ(outcome.error().code, Code::kUnavailable);
    }
  }
}

TEST(EngineTest, DisabledEngineDoesNothing) {
  auto dir = fs::temp_directory_path() / ("wharf-engine-test-" + std::to_string(::getpid()));
  auto store = content::BlobStore::Open(dir);
  ASSERT_TRUE(store.has_value());
  Engine engine(**store, {});
  EXPECT_FALSE(engine.enabled());
  EXPECT_FALSE(engine.remove_on_delete());
  metadata::ImageRecord image;  // not even a digest: nothing is read
  EXPECT_TRUE(engine.Load(image, nullptr).has_value());
  EXPECT_TRUE(engine.Remove(image).has_value());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace wharf::engine
