#include <gtest/gtest.h>

#include <filesystem>

#include "wharf/base/digest.h"
#include "wharf/base/file_util.h"

namespace wharf {
namespace {

TEST(DigestTest, ParsesOnlyCanonicalSha256) {
  const std::string hex(64, 'a');
  ASSERT_TRUE(Digest::Parse("sha256:" + hex));
  EXPECT_EQ(Digest::Parse("sha256:" + hex)->str(), "sha256:" + hex);
  EXPECT_FALSE(Digest::Parse("sha512:" + hex));
  EXPECT_FALSE(Digest::Parse("sha256:" + std::string(64, 'A')));
  EXPECT_FALSE(Digest::Parse("sha256:" + hex.substr(1)));
  EXPECT_FALSE(Digest::Parse("sha256:../../etc/passwd"));
  EXPECT_FALSE(Digest::Parse(""));
}

TEST(DigestTest, HashesKnownVectors) {
  EXPECT_EQ(Digest::Of("").hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 h;
  h.Update("ab");
  h.Update("c");
  EXPECT_EQ(h.Finish().hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // The hasher resets after Finish.
  EXPECT_EQ(h.Finish().hex(), Digest::Of("").hex());
  // Peek says where the hash is and leaves it going on.
  h.Update("ab");
  EXPECT_EQ(h.Peek(), Digest::Of("ab"));
  h.Update("c");
  EXPECT_EQ(h.Peek(), Digest::Of("abc"));
  EXPECT_EQ(h.Finish(), Digest::Of("abc"));
}

TEST(FileUtilTest, WriteFileAtomicReplacesAndLeavesNoTemp) {
  auto dir = std::filesystem::temp_directory_path() / ("wharf-base-" + RandomHex(6));
  ASSERT_TRUE(MakeDirs(dir));
  auto f = dir / "x.json";
  ASSERT_TRUE(WriteFileAtomic(f, "one"));
  ASSERT_TRUE(WriteFileAtomic(f, "two"));
  EXPECT_EQ(*ReadFile(f), "two");
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  EXPECT_EQ(ReadFile(f, 2).error().code, Code::kTooLarge);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace wharf
