#include "wharf/lxc/archive_scan.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <lzma.h>
#include <zstd.h>

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
  unsigned perm = 0;  // 0: 0755 for directories, 0644 otherwise
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
      archive_entry_set_perm(entry, e.perm != 0 ? e.perm : e.type == AE_IFDIR ? 0755 : 0644);
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

  // The tar itself, unfiltered, by libarchive.
  std::string Tar(const std::vector<Entry>& entries) {
    fs::path xz = TarXz("tmp.tar.xz", entries);
    std::string data = *ReadFile(xz);
    std::string out(64 << 20, '\0');
    size_t in_pos = 0, out_pos = 0;
    uint64_t memlimit = UINT64_MAX;
    EXPECT_EQ(lzma_stream_buffer_decode(
                  &memlimit, 0, nullptr, reinterpret_cast<const uint8_t*>(data.data()), &in_pos,
                  data.size(), reinterpret_cast<uint8_t*>(out.data()), &out_pos, out.size()),
              LZMA_OK);
    out.resize(out_pos);
    return out;
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
      {Write("plain.tar.xz", "this is not xz at all"), "neither xz nor zstd"},
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

// A ustar header of a regular file claiming `size` bytes (the data is not there: the scan
// must stop at the header's claim, before it would find the archive truncated).
std::string UstarHeader(const std::string& name, uint64_t size) {
  std::string h(512, '\0');
  h.replace(0, name.size(), name);
  auto octal = [&](size_t at, size_t width, uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%0*llo", static_cast<int>(width - 1),
                  static_cast<unsigned long long>(v));
    h.replace(at, width - 1, buf);
  };
  octal(100, 8, 0644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 0);
  h[156] = '0';
  h.replace(257, 6, std::string("ustar\0", 6));
  h.replace(263, 2, "00");
  h.replace(148, 8, "        ");
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  char chk[8];
  std::snprintf(chk, sizeof chk, "%06o", sum);
  h.replace(148, 7, std::string(chk, 6) + std::string(1, '\0'));
  return h;
}

std::vector<Entry> With(Entry e) {
  auto entries = GoodRootfs();
  entries.push_back(std::move(e));
  return entries;
}

TEST_F(ArchiveScanTest, SpecialFilesAreRefusedUnlessAllowed) {
  Entry mem{"./dev/mem", "", AE_IFCHR, "", "", 0666};
  Entry sda{"./dev/sda", "", AE_IFBLK, "", "", 0660};
  Entry fifo{"./run/initctl", "", AE_IFIFO, "", "", 0600};
  Entry suid{"./usr/bin/su", "#!/bin/sh\n", AE_IFREG, "", "", 04755};
  Entry sgid{"./usr/bin/wall", "#!/bin/sh\n", AE_IFREG, "", "", 02755};
  struct Case {
    Entry entry;
    std::string message;
  } cases[] = {
      {mem,
       "rootfs.tar.xz: \"dev/mem\" is a character device; device nodes are refused unless "
       "lxc.allow_special_files = true"},
      {sda, "\"dev/sda\" is a block device; device nodes are refused"},
      {fifo, "\"run/initctl\" is a FIFO; FIFOs are refused"},
      {suid,
       "\"usr/bin/su\" is setuid (mode 4755); setuid and setgid files are refused unless "
       "lxc.allow_special_files = true"},
      {sgid, "\"usr/bin/wall\" is setgid (mode 2755)"},
  };
  for (const auto& c : cases) {
    fs::path file = TarXz("special.tar.xz", With(c.entry));
    auto refused = ScanRootfs(file);
    ASSERT_FALSE(refused) << c.message;
    EXPECT_EQ(refused.error().code, Code::kPermissionDenied);
    EXPECT_NE(refused.error().message.find(c.message), std::string::npos)
        << refused.error().message;
    auto allowed = ScanRootfs(file, {.allow_special_files = true});
    EXPECT_TRUE(allowed) << allowed.error().message;
  }
  // A setgid directory (group inheritance, /var/mail) is no special file.
  Entry mail = Dir("./var/mail");
  mail.perm = 02775;
  EXPECT_TRUE(ScanRootfs(TarXz("mail.tar.xz", With(mail))));
}

TEST_F(ArchiveScanTest, DeclaredSizesCountAgainstTheLimit) {
  // 2 GiB claimed by one header (a sparse file claims its length with no data at all).
  fs::path file = XzOf("claims.tar.xz", UstarHeader("hole", uint64_t{2} << 30));
  auto over = ScanRootfs(file, {.limits = {.max_bytes = uint64_t{1} << 30}});
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, Code::kTooLarge);
  EXPECT_EQ(over.error().message,
            "rootfs.tar.xz: the sizes of its files add up to over 1073741824 bytes "
            "(downloads.max_unpacked_bytes)");
  auto within = ScanRootfs(file);  // 64 GiB by default: the archive is then truncated
  ASSERT_FALSE(within);
  EXPECT_EQ(within.error().code, Code::kDataLoss) << within.error().message;
}

TEST_F(ArchiveScanTest, BombsStopAsTheyAreRead) {
  const std::string zeros(20 << 20, '\0');  // past one cancel poll
  fs::path bomb =
      XzOf("bomb.tar.xz", UstarHeader("zeros", zeros.size()) + zeros + std::string(1024, '\0'));
  auto ratio = ScanRootfs(bomb, {.limits = {.ratio_free_bytes = 1 << 20}});
  ASSERT_FALSE(ratio);
  EXPECT_EQ(ratio.error().code, Code::kTooLarge);
  EXPECT_NE(ratio.error().message.find("rootfs.tar.xz unpacks to over 100 times its compressed "
                                       "size"),
            std::string::npos)
      << ratio.error().message;
  // The file's header claims past the bound before its bytes do.
  auto size = ScanRootfs(bomb, {.limits = {.max_bytes = 8 << 20, .max_ratio = 0}});
  ASSERT_FALSE(size);
  EXPECT_EQ(size.error().code, Code::kTooLarge);
  EXPECT_NE(size.error().message.find("over 8388608 bytes (downloads.max_unpacked_bytes)"),
            std::string::npos)
      << size.error().message;
  int polls = 0;
  auto cancelled =
      ScanRootfs(bomb, {.limits = {.max_ratio = 0, .cancelled = [&] { return ++polls == 1; }}});
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().code, Code::kCancelled);
  EXPECT_TRUE(ScanRootfs(bomb, {.limits = {.max_ratio = 0}}));
}

// distrobuilder --compression=zstd: rootfs.tar.zst, told by its first bytes.
TEST_F(ArchiveScanTest, ZstdRootfs) {
  const std::string tar = Tar(GoodRootfs());
  std::string zst(ZSTD_compressBound(tar.size()), '\0');
  zst.resize(ZSTD_compress(zst.data(), zst.size(), tar.data(), tar.size(), 3));
  auto summary = ScanRootfs(Write("rootfs.tar.zst", zst));
  ASSERT_TRUE(summary) << summary.error().message;
  EXPECT_EQ(summary->label, "rootfs.tar.zst");
  EXPECT_EQ(summary->unpacked_size, 6 + 5000 + 1234);
  auto truncated = ScanRootfs(Write("cut.tar.zst", zst.substr(0, zst.size() - 7)));
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().code, Code::kDataLoss);
  EXPECT_NE(truncated.error().message.find("rootfs.tar.zst is broken"), std::string::npos)
      << truncated.error().message;
  auto xz = ScanRootfs(TarXz("rootfs.tar.xz", GoodRootfs()));
  ASSERT_TRUE(xz);
  EXPECT_EQ(xz->label, "rootfs.tar.xz");
}

}  // namespace
}  // namespace wharf::lxc
