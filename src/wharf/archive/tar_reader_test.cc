#include "wharf/archive/tar_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "wharf/archive/tar_header.h"
#include "wharf/base/file_util.h"

namespace wharf::archive {
namespace {

namespace fs = std::filesystem;
using Type = TarItem::Type;

// What a visitor saw: each entry, with its content for files.
struct Seen {
  TarItem item;
  std::string content;
  bool ended = false;
};

class Recorder : public TarVisitor {
 public:
  Result<void> Begin(const TarItem& item) override {
    EXPECT_TRUE(entries.empty() || entries.back().item.type != Type::kFile || entries.back().ended)
        << "Begin before the End of " << entries.back().item.name;
    entries.push_back({item, "", false});
    if (fail_begin_at == static_cast<int>(entries.size())) return Conflict("begin refused");
    return {};
  }
  Result<void> Data(std::string_view bytes) override {
    EXPECT_FALSE(bytes.empty());
    EXPECT_FALSE(entries.empty());
    EXPECT_EQ(entries.back().item.type, Type::kFile);
    entries.back().content.append(bytes);
    if (fail_data) return Cancelled("data refused");
    return {};
  }
  Result<void> End() override {
    EXPECT_EQ(entries.back().item.type, Type::kFile);
    EXPECT_EQ(static_cast<int64_t>(entries.back().content.size()), entries.back().item.size);
    entries.back().ended = true;
    if (fail_end) return Internal("end refused");
    return {};
  }

  std::vector<Seen> entries;
  int fail_begin_at = 0;  // 1-based entry whose Begin fails; 0: none
  bool fail_data = false;
  bool fail_end = false;
};

// Feeds `tar` in pieces of `piece` bytes (0: whole), then finishes; the first error wins.
Result<void> Read(std::string_view tar, size_t piece, Recorder& recorder) {
  TarReader reader(recorder);
  if (piece == 0) piece = std::max<size_t>(tar.size(), 1);
  for (size_t at = 0; at < tar.size(); at += piece) {
    WHARF_RETURN_IF_ERROR(reader.Feed(tar.substr(at, piece)));
  }
  EXPECT_EQ(reader.consumed(), static_cast<int64_t>(tar.size()));
  return reader.Finish();
}

Status ReadError(std::string_view tar, size_t piece = 0) {
  Recorder recorder;
  auto r = Read(tar, piece, recorder);
  if (r) return Status{};
  return r.error();
}

void ExpectInvalid(std::string_view tar, std::string_view message) {
  for (size_t piece : {1, 100, 512, 0}) {
    Status s = ReadError(tar, piece);
    EXPECT_EQ(s.code, Code::kInvalidArgument) << s.ToString() << " (piece " << piece << ")";
    EXPECT_EQ(s.message, message) << "piece " << piece;
  }
}

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Rewrites a header block's checksum after an edit.
std::string Rechecksum(std::string block) {
  std::memset(block.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : block) sum += c;
  std::snprintf(block.data() + 148, 7, "%06o", sum);
  block[155] = ' ';
  return block;
}

// A header block of `type` (TarHeader's, with the type rewritten).
std::string Header(std::string_view name, int64_t size, char type) {
  auto h = TarHeader(name.empty() ? "x" : name, size, TarEntry::kFile);
  EXPECT_TRUE(h.has_value());
  std::string block = *h;
  if (name.empty()) block[0] = '\0';
  block[156] = type;
  return Rechecksum(block);
}

// An entry: header, content, padding.
std::string Entry(std::string_view name, std::string_view content, char type = '0') {
  return Header(name, static_cast<int64_t>(content.size()), type) + std::string(content) +
         std::string(TarPadding(static_cast<int64_t>(content.size())), '\0');
}

std::string PaxRecord(std::string_view key, std::string_view value) {
  std::string body = " " + std::string(key) + "=" + std::string(value) + "\n";
  size_t len = body.size() + 1;
  while (std::to_string(len).size() + body.size() != len) ++len;
  return std::to_string(len) + body;
}

const std::string kTrailer(kTarTrailer, '\0');

// A tree written to disk and archived by GNU tar in several formats.
class GnuTarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("wharf-tar-reader-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "tree");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void AddFile(const std::string& name, const std::string& content) {
    fs::create_directories((dir_ / "tree" / name).parent_path());
    std::ofstream(dir_ / "tree" / name, std::ios::binary) << content;
    files_[name] = content;
  }

  // `tar --format=FORMAT -c` of the tree, in name order, read back whole.
  std::string Archive(const std::string& format) {
    const fs::path out = dir_ / ("tree." + format + ".tar");
    std::string command = "tar --format=" + format + " --sort=name --owner=0 --group=0 -cf '" +
                          out.string() + "' -C '" + (dir_ / "tree").string() + "' .";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    auto bytes = ReadFile(out, 64 << 20);
    EXPECT_TRUE(bytes.has_value());
    return bytes.value_or("");
  }

  // Every file came with its exact content, once; returns the entries by name.
  std::map<std::string, TarItem> ExpectTree(std::string_view tar, size_t piece) {
    Recorder recorder;
    auto r = Read(tar, piece, recorder);
    EXPECT_TRUE(r.has_value()) << "piece " << piece << ": " << r.error().ToString();
    std::map<std::string, TarItem> items;
    for (const Seen& seen : recorder.entries) {
      EXPECT_TRUE(items.emplace(seen.item.name, seen.item).second) << seen.item.name;
      if (seen.item.type != Type::kFile) continue;
      EXPECT_TRUE(seen.ended) << seen.item.name;
      auto want = files_.find(seen.item.name);
      if (want == files_.end()) {
        ADD_FAILURE() << "unexpected file " << seen.item.name;
        continue;
      }
      EXPECT_TRUE(seen.content == want->second) << seen.item.name << " (piece " << piece << ")";
    }
    for (const auto& [name, content] : files_) {
      EXPECT_TRUE(items.contains(name)) << "missing " << name << " (piece " << piece << ")";
    }
    return items;
  }

  fs::path dir_;
  std::map<std::string, std::string> files_;
};

std::vector<size_t> PieceSizes() {
  std::vector<size_t> pieces;
  for (size_t p = 1; p <= 1030; ++p) pieces.push_back(p);
  for (size_t p : {4096, 10000, 65536}) pieces.push_back(p);
  pieces.push_back(0);
  return pieces;
}

TEST_F(GnuTarTest, LongNamesAndLinksInGnuAndPaxFormats) {
  const std::string long_dir = "d/" + std::string(120, 'a') + "/" + std::string(90, 'b');
  const std::string long_base = std::string(150, 'n') + ".txt";
  AddFile("small", "hello\n");
  AddFile("empty", "");
  AddFile("block", RandomBytes(1024, 1));
  AddFile("odd", RandomBytes(3000, 2));
  AddFile(long_dir + "/" + long_base, RandomBytes(700, 3));
  AddFile("sub/dir/file", "nested");
  fs::create_directory(dir_ / "tree" / "emptydir");
  fs::create_symlink("sub/dir/file", dir_ / "tree" / "link");
  const std::string long_target = std::string(130, 't') + "/target";
  fs::create_symlink(long_target, dir_ / "tree" / "longlink");
  fs::create_hard_link(dir_ / "tree" / "small", dir_ / "tree" / "zz-hard");

  for (const std::string format : {"gnu", "pax", "oldgnu"}) {
    SCOPED_TRACE(format);
    const std::string tar = Archive(format);
    for (size_t piece : PieceSizes()) {
      auto items = ExpectTree(tar, piece);
      if (piece != 0) continue;
      ASSERT_TRUE(items.contains(""));  // "./", the root
      EXPECT_EQ(items[""].type, Type::kDirectory);
      EXPECT_EQ(items["emptydir"].type, Type::kDirectory);
      EXPECT_EQ(items["d/" + std::string(120, 'a')].type, Type::kDirectory);
      EXPECT_EQ(items["link"].type, Type::kSymlink);
      EXPECT_EQ(items["link"].link, "sub/dir/file");
      EXPECT_EQ(items["longlink"].link, long_target);
      EXPECT_EQ(items["zz-hard"].type, Type::kHardlink);
      EXPECT_EQ(items["zz-hard"].link, "./small");
      EXPECT_EQ(items["small"].size, 6);
    }
  }
}

TEST_F(GnuTarTest, UstarPrefixAndTheEndOfArchiveMarker) {
  // ustar splits a long path at a slash into its prefix and name fields.
  AddFile("last", RandomBytes(512, 4));
  // Sorted last: its content (no zero byte) ends the entries.
  AddFile("pre/" + std::string(90, 'p') + "/" + std::string(90, 'f'), std::string(513, 'q'));
  const std::string tar = Archive("ustar");
  for (size_t piece : {1, 7, 512, 1000, 0}) ExpectTree(tar, piece);
  // Without the two zero blocks (or with one), the archive still ends at a header boundary.
  const size_t end = tar.rfind('q') + 1 + TarPadding(513);
  for (size_t cut : {end, end + 512, end + 1024}) {
    for (size_t piece : {1, 512, 0}) ExpectTree(std::string_view(tar).substr(0, cut), piece);
  }
}

TEST(TarReaderTest, Base256SizeAndNumbers) {
  // A 9 GiB entry: TarHeader writes sizes from 8 GiB on in base-256.
  const int64_t big = int64_t{9} << 30;
  Recorder recorder;
  TarReader reader(recorder);
  auto header = TarHeader("big.bin", big, TarEntry::kFile);
  ASSERT_TRUE(header.has_value());
  ASSERT_TRUE(reader.Feed(*header + "start of it"));
  ASSERT_EQ(recorder.entries.size(), 1u);
  EXPECT_EQ(recorder.entries[0].item.size, big);
  EXPECT_EQ(recorder.entries[0].content, "start of it");
  EXPECT_EQ(reader.Finish().error().message, "truncated tar archive (inside entry big.bin)");

  // A small size in base-256 form, with its content.
  std::string h = Header("small", 0, '0');
  std::memset(h.data() + 124, 0, 12);
  h[124] = static_cast<char>(0x80);
  h[134] = 0x01;  // 0x0105 = 261
  h[135] = 0x05;
  h = Rechecksum(h);
  const std::string content = RandomBytes(261, 6);
  const std::string tar = h + content + std::string(TarPadding(261), '\0') + kTrailer;
  Recorder small;
  ASSERT_TRUE(Read(tar, 3, small));
  ASSERT_EQ(small.entries.size(), 1u);
  EXPECT_EQ(small.entries[0].content, content);
  // Negative (0xff) is refused.
  h[124] = static_cast<char>(0xff);
  ExpectInvalid(Entry("ok", "") + Rechecksum(h) + kTrailer,
                "bad tar header at byte 512 (bad size of entry small)");
}

TEST(TarReaderTest, PaxHeaders) {
  const std::string long_name = std::string(200, 'x') + "/file";
  const std::string content = RandomBytes(1500, 7);
  std::string pax = PaxRecord("path", long_name) + PaxRecord("mtime", "1700000000.5") +
                    PaxRecord("linkpath", "ignored for a file") +
                    PaxRecord("size", std::to_string(content.size()));
  std::string global = PaxRecord("comment", "global headers are skipped");
  // The header's own size says 0: pax's size wins.
  std::string tar = Entry("pax_global_header", global, 'g') + Entry("PaxHeaders/f", pax, 'x') +
                    Header("short", 0, '0') + content + std::string(TarPadding(1500), '\0') +
                    Entry("PaxHeaders/l", PaxRecord("linkpath", "/abs/target"), 'x') +
                    Header("sym", 0, '2') + kTrailer;
  for (size_t piece : {1, 13, 512, 0}) {
    Recorder recorder;
    ASSERT_TRUE(Read(tar, piece, recorder)) << piece;
    ASSERT_EQ(recorder.entries.size(), 2u);
    EXPECT_EQ(recorder.entries[0].item.name, long_name);
    EXPECT_EQ(recorder.entries[0].item.size, 1500);
    EXPECT_TRUE(recorder.entries[0].content == content);
    EXPECT_EQ(recorder.entries[1].item.name, "sym");
    EXPECT_EQ(recorder.entries[1].item.link, "/abs/target");
  }
  ExpectInvalid(Entry("PaxHeaders/bad", "12 path=x\n", 'x') + Entry("f", "") + kTrailer,
                "malformed pax header of entry PaxHeaders/bad");
  ExpectInvalid(Entry("PaxHeaders/bad", "8 path=x\n", 'x') + Entry("f", "") + kTrailer,
                "malformed pax header of entry PaxHeaders/bad");
  ExpectInvalid(Entry("PaxHeaders/bad", PaxRecord("size", "-1"), 'x') + Entry("f", "") + kTrailer,
                "malformed pax header of entry PaxHeaders/bad");
}

TEST(TarReaderTest, SkipsTheContentOfOtherEntries) {
  const std::string tar = Entry("sparse", RandomBytes(700, 8), 'S') + Entry("dir/", "") +
                          Header("fifo", 0, '6') + Entry("./././a/b/", "", '5') +
                          Entry("after", "the next file") + kTrailer + "ignored after the end";
  Recorder recorder;
  TarReader reader(recorder);
  ASSERT_TRUE(reader.Feed(tar));
  EXPECT_TRUE(reader.ended());
  ASSERT_TRUE(reader.Finish());
  ASSERT_EQ(recorder.entries.size(), 5u);
  EXPECT_EQ(recorder.entries[0].item.type, Type::kOther);
  EXPECT_EQ(recorder.entries[0].item.size, 0);
  EXPECT_EQ(recorder.entries[1].item.type, Type::kDirectory);  // an old "file" ending in '/'
  EXPECT_EQ(recorder.entries[1].item.name, "dir");
  EXPECT_EQ(recorder.entries[2].item.type, Type::kOther);
  EXPECT_EQ(recorder.entries[3].item.name, "a/b");
  EXPECT_EQ(recorder.entries[4].content, "the next file");
  EXPECT_EQ(reader.consumed(), static_cast<int64_t>(tar.size()));
}

TEST(TarReaderTest, NotATarArchive) {
  const std::string text(2048, 'x');
  ExpectInvalid(text, "not a tar archive: bad header checksum");
  ExpectInvalid(std::string("\x1f\x8b\x08\x00", 4) + RandomBytes(2000, 9),
                "not a tar archive: bad header checksum");
  std::string v7 = Header("file", 0, '0');  // no magic, but a good checksum
  std::memset(v7.data() + 257, 0, 8);
  ExpectInvalid(Rechecksum(v7) + kTrailer, "not a tar archive: no ustar magic");
  EXPECT_EQ(ReadError("").message, "not a tar archive: the stream is empty");
  EXPECT_EQ(ReadError("short").message, "not a tar archive: 5 bytes, less than a tar header");
  // Only zero blocks: an empty archive, as `tar -cf x.tar -T /dev/null` writes it.
  EXPECT_TRUE(ReadError(std::string(10240, '\0')).ok());
}

TEST(TarReaderTest, BadHeaders) {
  const std::string first = Entry("first", RandomBytes(600, 10));
  std::string second = Entry("second", "2");
  second[10] = 'X';
  ExpectInvalid(first + second + kTrailer, "bad tar header checksum at byte 1536");
  ExpectInvalid(first + std::string(512, '\0') + Entry("x", "") + kTrailer,
                "bad tar header at byte 1536 (a lone zero block)");
  std::string bad_size = Header("bad", 0, '0');
  bad_size.replace(124, 4, "12x4");
  ExpectInvalid(Entry("ok", "") + Rechecksum(bad_size) + kTrailer,
                "bad tar header at byte 512 (bad size of entry bad)");
  std::string no_magic = Header("plain", 0, '0');
  no_magic.replace(257, 5, "xxxxx");
  ExpectInvalid(Entry("ok", "") + Rechecksum(no_magic) + kTrailer,
                "bad tar header at byte 512 (no ustar magic)");
}

TEST(TarReaderTest, BadNames) {
  ExpectInvalid(Entry("/etc/passwd", "root") + kTrailer, "entry name /etc/passwd is absolute");
  ExpectInvalid(Entry("a/../../etc/x", "") + kTrailer, "entry name a/../../etc/x has '..'");
  ExpectInvalid(Entry("..", "", '5') + kTrailer, "entry name .. has '..'");
  ExpectInvalid(Entry("ok", "") + Entry("", "") + kTrailer, "entry name at byte 512 is empty");
  ExpectInvalid(Entry(".", "", '2') + kTrailer, "entry name . is empty once normalised");
  const std::string with_nul("a\0b", 3);
  ExpectInvalid(Entry("././@LongLink", with_nul, 'L') + Entry("short", "") + kTrailer,
                "entry name a\\0b has a NUL byte");
  // Not ".." components: fine.
  Recorder recorder;
  ASSERT_TRUE(Read(Entry("a..b/..c/d..", "") + Entry("./x", "") + kTrailer, 0, recorder));
  EXPECT_EQ(recorder.entries[0].item.name, "a..b/..c/d..");
  EXPECT_EQ(recorder.entries[1].item.name, "x");
}

TEST(TarReaderTest, MetadataIsBounded) {
  const int64_t over = kTarMaxMetadata + 1;
  ExpectInvalid(Header("././@LongLink", over, 'L'),
                "the long name of entry ././@LongLink is over 1048576 bytes");
  ExpectInvalid(Header("././@LongLink", over, 'K'),
                "the long link of entry ././@LongLink is over 1048576 bytes");
  ExpectInvalid(Header("PaxHeaders/x", over, 'x'),
                "the pax header of entry PaxHeaders/x is over 1048576 bytes");
}

TEST(TarReaderTest, Truncated) {
  const std::string tar = Entry("a", "aaa") + Entry("dir/file", RandomBytes(1000, 11)) + kTrailer;
  ExpectInvalid(tar.substr(0, 100), "not a tar archive: 100 bytes, less than a tar header");
  ExpectInvalid(tar.substr(0, 1024 + 100), "truncated tar archive (no end-of-archive marker)");
  ExpectInvalid(tar.substr(0, 514), "truncated tar archive (inside entry a)");  // content
  ExpectInvalid(tar.substr(0, 600), "truncated tar archive (inside entry a)");  // padding
  ExpectInvalid(tar.substr(0, 1024 + 999), "truncated tar archive (inside entry dir/file)");
  ExpectInvalid(tar.substr(0, 1024 + 1100), "truncated tar archive (inside entry dir/file)");
  ExpectInvalid(tar.substr(0, 1024 + 1536 + 100),
                "truncated tar archive (no end-of-archive marker)");
  ExpectInvalid(Entry("././@LongLink", "long", 'L'),
                "truncated tar archive (inside entry ././@LongLink)");
  // Cut at a header boundary: accepted.
  EXPECT_TRUE(ReadError(tar.substr(0, 1024)).ok());
  EXPECT_TRUE(ReadError(tar.substr(0, 1024 + 1536 + 512)).ok());
}

TEST(TarReaderTest, VisitorErrorsStopTheReader) {
  const std::string tar = Entry("a", "aaa") + Entry("b", RandomBytes(2000, 12)) + kTrailer;
  {
    Recorder recorder;
    recorder.fail_begin_at = 2;
    TarReader reader(recorder);
    auto fed = reader.Feed(tar);
    ASSERT_FALSE(fed);
    EXPECT_EQ(fed.error().message, "begin refused");
    EXPECT_EQ(fed.error().code, Code::kConflict);
    EXPECT_EQ(reader.Feed("more").error().message, "begin refused");
    EXPECT_EQ(reader.Finish().error().message, "begin refused");
    EXPECT_EQ(recorder.entries.size(), 2u);
    EXPECT_TRUE(recorder.entries[1].content.empty());
  }
  {
    Recorder recorder;
    recorder.fail_data = true;
    TarReader reader(recorder);
    EXPECT_EQ(reader.Feed(tar).error().code, Code::kCancelled);
    EXPECT_EQ(recorder.entries.size(), 1u);
    EXPECT_EQ(recorder.entries[0].content, "aaa");
    EXPECT_FALSE(recorder.entries[0].ended);
  }
  {
    Recorder recorder;
    recorder.fail_end = true;
    EXPECT_EQ(Read(tar, 1, recorder).error().message, "end refused");
    EXPECT_EQ(recorder.entries.size(), 1u);
  }
}

}  // namespace
}  // namespace wharf::archive
