#include "wharf/cli/save.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "wharf/base/file_util.h"
#include "wharf/cli/output_file.h"
#include "wharf/cli/transfer_progress.h"

namespace wharf::cli {
namespace {

namespace fs = std::filesystem;

TEST(ExportPathTest, EveryImageAQueryParameterEscaped) {
  EXPECT_EQ(ExportPath({"busybox:1.36"}, "docker"),
            "/api/v1/image/export?format=docker&image=busybox%3A1.36");
  EXPECT_EQ(ExportPath({"lgsd/diamond", "127.0.0.1:5000/a/b@sha256:ab"}, "oci"),
            "/api/v1/image/export?format=oci&image=lgsd%2Fdiamond"
            "&image=127.0.0.1%3A5000%2Fa%2Fb%40sha256%3Aab");
}

TEST(TransferProgressLineTest, BarSizesPercentSpeedAndEtaFittedToTheWidth) {
  std::string line =
      TransferProgressLine("Saving busybox:1.36", 12300000, 63400000, 4100000.0, 120);
  EXPECT_EQ(line.rfind("Saving busybox:1.36  [", 0), 0u) << line;
  EXPECT_NE(line.find("]  12.3MB/63.4MB  19%  4.1MB/s  ETA 13s"), std::string::npos) << line;
  EXPECT_LE(line.size(), 119u);
  std::string narrow =
      TransferProgressLine("Saving busybox:1.36", 12300000, 63400000, 4100000.0, 50);
  EXPECT_EQ(narrow.find('['), std::string::npos) << "no room for a bar: " << narrow;
  EXPECT_NE(narrow.find("12.3MB/63.4MB"), std::string::npos) << narrow;
  EXPECT_EQ(TransferProgressLine("Saving x:1", 5000, -1, std::nullopt, 80), "Saving x:1  5kB");
  EXPECT_EQ(TransferProgressLine("Saving x:1", 0, 0, std::nullopt, 80), "Saving x:1  0B/0B");
}

class OutputFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wharf-output-test-" + RandomHex(6));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> Files() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }
  static std::string Read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  fs::path dir_;
};

TEST_F(OutputFileTest, TheFileAppearsWholeOnlyAtCommit) {
  const fs::path target = dir_ / "busybox.tar";
  { std::ofstream(target) << "the previous archive"; }
  auto out = OutputFile::Create(target);
  ASSERT_TRUE(out.has_value()) << out.error().message;
  ASSERT_TRUE((*out)->Write("first ").has_value());
  ASSERT_TRUE((*out)->Write("second").has_value());
  EXPECT_EQ(Read(target), "the previous archive") << "not touched before the commit";
  EXPECT_EQ(Files().size(), 2u) << "the temporary file lies beside it";
  ASSERT_TRUE((*out)->Commit().has_value());
  EXPECT_EQ(Read(target), "first second");
  out->reset();
  EXPECT_EQ(Files(), std::vector<std::string>{"busybox.tar"});
}

TEST_F(OutputFileTest, DroppedBeforeCommitLeavesNothing) {
  {
    auto out = OutputFile::Create(dir_ / "half.tar");
    ASSERT_TRUE(out.has_value());
    ASSERT_TRUE((*out)->Write(std::string(100000, 'x')).has_value());
  }
  EXPECT_TRUE(Files().empty());
}

TEST_F(OutputFileTest, AMissingDirectoryIsAnErrorNamingThePath) {
  auto out = OutputFile::Create(dir_ / "no" / "such.tar");
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code, Code::kInternal) << "a local failure, not a missing image";
  EXPECT_NE(out.error().message.find("such.tar"), std::string::npos) << out.error().message;
}

}  // namespace
}  // namespace wharf::cli
