#include "wharf/lxc/archive_scan.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <lzma.h>

#include <filesystem>

#include "wharf/base/file_util.h"

namespace wharf::lxc {
namespace {

namespace fs = std::filesystem;

struct Entry {
  std::string path;
  std::string data;
  unsigned type = AE_IFREG;
  std::string symlink;
  std::string hardlink;
};

Entry Dir(std::string path) { return {std::move(path), "", AE_IFDIR}; }
Entry File(std::string path, std::string data) { return {std::move(path), std::move(data)}; }
Entry Symlink(std::string path, std::string target) {
  return {std::move(path), "", AE_IFLNK, std::move(target)};
}
Entry Hardlink(std::string path, std::string target) {
  return {std::move(path), "", AE_IFREG, "", std::move(target)};
}

class ArchiveScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wharf-archive-scan-" + RandomHex(8));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A .tar.xz written by libarchive, which (unlike tar(1)) keeps "../" and "/" as given.
  fs::path TarXz(const std::string& name, const std::vector<Entry>& entries) {
    fs::path out = dir_ / name;
    archive* a = archive_write_new();
    archive_write_add_filter_xz(a);
    archive_write_set_format_pax_restricted(a);
    EXPECT_EQ(archive_write_open_filename(a, out.c_str()), ARCHIVE_OK);
    for (const auto& e : entries) {
      archive_entry* entry = archive_entry_new();
      archive_entry_set_pathname(entry, e.path.c_str());
      archive_entry_set_filetype(entry, e.type);
      archive_entry_set_perm(entry, e.type == AE_IFDIR ? 0755 : 0644);
      if (!e.symlink.empty()) archive_entry_set_symlink(entry, e.symlink.c_str());
      if (!e.hardlink.empty()) archive_entry_set_hardlink(entry, e.hardlink.c_str());
      archive_entry_set_size(entry, static_cast<la_int64_t>(e.data.size()));
      EXPECT_EQ(archive_write_header(a, entry), ARCHIVE_OK) << e.path;
      if (!e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
      archive_entry_free(entry);
    }
    archive_write_close(a);
    archive_write_free(a);
    return out;
  }

  fs::path XzOf(const std::string& name, const std::string& data) {
    std::string out(data.size() + 1024, '\0');
    size_t pos = 0;
    EXPECT_EQ(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, nullptr,
                                      reinterpret_cast<const uint8_t*>(data.data()), data.size(),
                                      reinterpret_cast<uint8_t*>(out.data()), &pos, out.size()),
              LZMA_OK);
    out.resize(pos);
    return Write(name, out);
  }

  fs::path Write(const std::string& name, const std::string& data) {
    EXPECT_TRUE(WriteFileAtomic(dir_ / name, data));
    return dir_ / name;
  }

  fs::path dir_;
};

std::vector<Entry> GoodRootfs() {
  return {Dir("./"),
          Dir("./etc"),
          File("./etc/hostname", "wharf\n"),
          File("./etc/os-release", std::string(5000, 'x')),
          Symlink("./etc/localtime", "/usr/share/zoneinfo/UTC"),  // absolute targets are normal
          Symlink("./bin", "usr/bin"),
          Dir("./usr/bin"),
          File("./usr/bin/true", std::string(1234, '\1')),
          Hardlink("./usr/bin/also-true", "./usr/bin/true")};
}

TEST_F(ArchiveScanTest, SumsTheRegularFiles) {
  auto summary = ScanRootfs(TarXz("rootfs.tar.xz", GoodRootfs()));
  ASSERT_TRUE(summary) << summary.error().message;
  EXPECT_EQ(summary->unpacked_size, 6 + 5000 + 1234);
  EXPECT_EQ(summary->entries, 9);
}

TEST_F(ArchiveScanTest, RejectsUnsafeEntries) {
  struct Case {
    std::vector<Entry> extra;
    std::string mentions;
  } cases[] = {
      {{File("../escape", "x")}, "../escape"},
      {{File("./etc/../../escape", "x")}, "escape"},
      {{File("/etc/passwd", "x")}, "/etc/passwd"},
      {{Hardlink("./etc/link", "../../etc/shadow")}, "hard link"},
      {{Hardlink("./etc/link", "/etc/shadow")}, "hard link"},
      {{Symlink("./evil", "/etc"), File("./evil/passwd", "x")}, "symbolic link"},
      {{Symlink("./evil", "/etc"), Dir("./evil/cron.d")}, "symbolic link"},
      {{Symlink("./evil", "/"), Hardlink("./x", "evil/etc/shadow")}, "symbolic link"},
  };
  for (const auto& c : cases) {
    auto entries = GoodRootfs();
    entries.insert(entries.end(), c.extra.begin(), c.extra.end());
    auto summary = ScanRootfs(TarXz("bad.tar.xz", entries));
    ASSERT_FALSE(summary) << c.mentions;
    EXPECT_EQ(summary.error().code, Code::kDataLoss);
    EXPECT_NE(summary.error().message.find(c.mentions), std::string::npos)
        << summary.error().message;
  }
}

TEST_F(ArchiveScanTest, EntryPathRules) {
  EXPECT_TRUE(IsSafeEntryPath("./etc/hostname"));
  EXPECT_TRUE(IsSafeEntryPath("etc/..hidden"));
  EXPECT_FALSE(IsSafeEntryPath("/etc"));
  EXPECT_FALSE(IsSafeEntryPath(".."));
  EXPECT_FALSE(IsSafeEntryPath("a/../b"));
  EXPECT_FALSE(IsSafeEntryPath("a/.."));
  EXPECT_FALSE(IsSafeEntryPath(""));
}

TEST_F(ArchiveScanTest, BrokenArchivesAreDataLoss) {
  fs::path good = TarXz("good.tar.xz", GoodRootfs());
  std::string bytes = *ReadFile(good);
  std::string corrupt = bytes;
  for (size_t i = bytes.size() / 3; i < bytes.size() / 3 + 16; ++i) corrupt[i] ^= 0x5a;
  struct Case {
    fs::path file;
    std::string mentions;
  } cases[] = {
      {Write("plain.tar.xz", "this is not xz at all"), "not xz"},
      {Write("truncated.tar.xz", bytes.substr(0, bytes.size() / 2)), "broken"},
      {Write("corrupt.tar.xz", corrupt), "broken"},
      {XzOf("nottar.tar.xz", std::string(4096, 'z')), "broken"},
      {XzOf("nothing.tar.xz", ""), "broken"},
      {XzOf("empty.tar.xz", std::string(1024, '\0')), "no files"},  // a tar with no entry
  };
  for (const auto& c : cases) {
    auto summary = ScanRootfs(c.file);
    ASSERT_FALSE(summary) << c.file;
    EXPECT_EQ(summary.error().code, Code::kDataLoss) << c.file;
    EXPECT_NE(summary.error().message.find(c.mentions), std::string::npos)
        << c.file << ": " << summary.error().message;
  }
  EXPECT_FALSE(ScanRootfs(dir_ / "missing.tar.xz"));
}

TEST_F(ArchiveScanTest, ReadsMeta) {
  auto files = ReadMeta(
      TarXz("meta.tar.xz",
            {Dir("./"), File("./config", "lxc.arch = x86_64\n"), File("./expiry", "1999999999\n"),
             File("./templates", "/etc/hostname\n"), Dir("./extra"), File("./extra/notes", "n")}));
  ASSERT_TRUE(files) << files.error().message;
  ASSERT_EQ(files->size(), 5u);
  EXPECT_EQ((*files)[0].path, "config");
  EXPECT_EQ((*files)[0].data, "lxc.arch = x86_64\n");
  EXPECT_EQ((*files)[3].path, "extra");
  EXPECT_TRUE((*files)[3].is_dir);
  EXPECT_EQ((*files)[4].path, "extra/notes");
}

TEST_F(ArchiveScanTest, MetaMustHoldConfigAndOnlyFiles) {
  struct Case {
    std::vector<Entry> entries;
    std::string mentions;
  } cases[] = {
      {{File("./expiry", "1"), File("./templates", "")}, "config"},
      {{Dir("./config"), File("./expiry", "1")}, "config"},
      {{File("./config", "x"), Symlink("./link", "/etc/passwd")}, "neither"},
      {{File("./config", "x"), File("../config", "y")}, "unsafe"},
  };
  for (const auto& c : cases) {
    auto files = ReadMeta(TarXz("meta.tar.xz", c.entries));
    ASSERT_FALSE(files) << c.mentions;
    EXPECT_EQ(files.error().code, Code::kDataLoss);
    EXPECT_NE(files.error().message.find(c.mentions), std::string::npos) << files.error().message;
  }
  auto big = ReadMeta(TarXz("big.tar.xz", {File("./config", std::string(2000, 'c'))}), 1000);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, Code::kDataLoss);
}

}  // namespace
}  // namespace wharf::lxc
