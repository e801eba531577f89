#include "wharf/base/file_util.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "wharf/base/unique_fd.h"

namespace wharf {
namespace {

namespace fs = std::filesystem;

class FileUtilChunksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wharf-file-util-" + RandomHex(6));
    ASSERT_TRUE(MakeDirs(dir_));
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path Write(const std::string& name, std::string_view data) {
    fs::path p = dir_ / name;
    EXPECT_TRUE(WriteFileAtomic(p, data));
    return p;
  }

  // ReadFileChunks with a `chunk_size` buffer, collecting the pieces.
  Result<int64_t> Chunks(const fs::path& p, size_t chunk_size, int64_t limit) {
    pieces_.clear();
    std::string buffer(chunk_size, '\0');
    return ReadFileChunks(
        p, buffer,
        [&](std::string_view piece) -> Result<void> {
          pieces_.emplace_back(piece);
          return {};
        },
        limit);
  }

  fs::path dir_;
  std::vector<std::string> pieces_;
};

TEST_F(FileUtilChunksTest, ReadsTheWholeFileInPieces) {
  fs::path p = Write("ten", "0123456789");
  auto n = Chunks(p, 4, -1);
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(*n, 10);
  EXPECT_EQ(pieces_, (std::vector<std::string>{"0123", "4567", "89"}));
}

TEST_F(FileUtilChunksTest, StopsAtTheLimit) {
  fs::path p = Write("ten", "0123456789");
  ASSERT_EQ(*Chunks(p, 4, 6), 6);
  EXPECT_EQ(pieces_, (std::vector<std::string>{"0123", "45"}));
  ASSERT_EQ(*Chunks(p, 4, 0), 0);
  EXPECT_TRUE(pieces_.empty());
  ASSERT_EQ(*Chunks(p, 4, 99), 10);  // a file shorter than the limit: what there is
}

TEST_F(FileUtilChunksTest, EmptyBufferGetsADefaultSize) {
  std::string big(3 << 20, 'x');
  fs::path p = Write("big", big);
  std::string buffer;
  int64_t pieces = 0;
  auto n = ReadFileChunks(p, buffer, [&](std::string_view) -> Result<void> {
    ++pieces;
    return {};
  });
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, static_cast<int64_t>(big.size()));
  EXPECT_EQ(buffer.size(), size_t{1} << 20);
  EXPECT_EQ(pieces, 3);
}

TEST_F(FileUtilChunksTest, ErrorsNameThePathOrComeFromTheSink) {
  auto missing = Chunks(dir_ / "missing", 4, -1);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
  EXPECT_NE(missing.error().message.find("missing"), std::string::npos);

  auto dir = Chunks(dir_, 4, -1);  // a directory opens, but read(2) fails with EISDIR
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code, Code::kInternal);
  EXPECT_TRUE(dir.error().message.starts_with("read " + dir_.string()));

  fs::path p = Write("ten", "0123456789");
  std::string buffer(4, '\0');
  int calls = 0;
  auto stopped = ReadFileChunks(p, buffer, [&](std::string_view) -> Result<void> {
    if (++calls == 2) return DataLoss("bad bytes");
    return {};
  });
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().code, Code::kDataLoss);
  EXPECT_EQ(stopped.error().message, "bad bytes");
  EXPECT_EQ(calls, 2);
}

TEST_F(FileUtilChunksTest, WriteAllWritesEverythingOrTellsErrno) {
  fs::path p = dir_ / "out";
  {
    UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd);
    EXPECT_EQ(WriteAll(fd.get(), "hello, "), 0);
    EXPECT_EQ(WriteAll(fd.get(), ""), 0);
    EXPECT_EQ(WriteAll(fd.get(), std::string(1 << 20, 'z')), 0);
  }
  EXPECT_EQ(ReadFile(p)->size(), 7u + (1 << 20));
  UniqueFd read_only(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(WriteAll(read_only.get(), "x"), EBADF);
}

TEST_F(FileUtilChunksTest, ReadFileReportsErrors) {
  EXPECT_EQ(ReadFile(dir_ / "missing").error().code, Code::kNotFound);
  auto dir = ReadFile(dir_);  // fstat says 4096 or so bytes; read(2) says EISDIR
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().code, Code::kOk);
}

// Every durability level replaces the file whole, with the mode asked for, and leaves no temp
// file beside it (what is fsynced is not observable here; blob_store_test counts the names).
TEST_F(FileUtilChunksTest, WriteFileAtomicReplacesWholeAtEveryDurability) {
  for (auto durability : {Durability::kFull, Durability::kFileOnly, Durability::kNone}) {
    const fs::path p = dir_ / "f.json";
    ASSERT_TRUE(WriteFileAtomic(p, "old contents", 0600, durability));
    ASSERT_TRUE(WriteFileAtomic(p, "new", 0600, durability));
    EXPECT_EQ(ReadFile(p).value_or(""), "new");
    EXPECT_EQ(fs::status(p).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
    size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++entries;
    EXPECT_EQ(entries, 1u);
    fs::remove(p);
  }
}

}  // namespace
}  // namespace wharf
