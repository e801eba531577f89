#include "wharf/lxc/lxc_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "wharf/base/file_util.h"

namespace wharf::lxc {
namespace {

namespace fs = std::filesystem;

// Every path under dir, or only its children.
std::vector<std::string> Names(const fs::path& dir, bool recursive = true) {
  std::vector<std::string> names;
  if (!recursive) {
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    names.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class LxcCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wharf-lxc-cache-" + RandomHex(8));
    fs::create_directories(dir_ / "src");
    ASSERT_TRUE(WriteFileAtomic(dir_ / "src/rootfs-a", "rootfs A"));
    ASSERT_TRUE(WriteFileAtomic(dir_ / "src/rootfs-b", "rootfs B"));
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Read(const fs::path& p) { return ReadFile(p).value_or("<missing>"); }

  fs::path dir_;
  const CacheKey key_{"debian", "bookworm", "amd64", "default"};
  const std::vector<MetaFile> meta_{{"config", false, 0644, "lxc.arch = x86_64\n"},
                                    {"templates", false, 0644, "/etc/hostname\n"},
                                    {"sub", true, 0755, ""},
                                    {"sub/file", false, 0600, "s"}};
};

TEST_F(LxcCacheTest, PlacesWhatTheDownloadTemplateReads) {
  LxcCache cache(dir_ / "cache");
  ASSERT_TRUE(cache.Place(key_, dir_ / "src/rootfs-a", meta_, "20240101_05:24"));
  fs::path d = dir_ / "cache/debian/bookworm/amd64/default";
  EXPECT_EQ(Names(d), (std::vector<std::string>{"build_id", "config", "rootfs.tar.xz", "sub",
                                                "sub/file", "templates"}));
  EXPECT_EQ(Read(d / "build_id"), "20240101_05:24\n");
  EXPECT_EQ(Read(d / "rootfs.tar.xz"), "rootfs A");
  EXPECT_EQ(Read(d / "config"), "lxc.arch = x86_64\n");
  struct stat st {};
  ASSERT_EQ(::stat((d / "sub/file").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(cache.BuildId(key_), "20240101_05:24");
  // Nothing temporary left next to it.
  EXPECT_EQ(Names(dir_ / "cache/debian/bookworm/amd64", false),
            std::vector<std::string>{"default"});
}

TEST_F(LxcCacheTest, ANewBuildReplacesTheOldOneWhole) {
  LxcCache cache(dir_ / "cache");
  ASSERT_TRUE(cache.Place(key_, dir_ / "src/rootfs-a", meta_, "20240101_05:24"));
  fs::path d = dir_ / "cache/debian/bookworm/amd64/default";
  ASSERT_TRUE(WriteFileAtomic(d / "stale", "left by an older template run"));
  ASSERT_TRUE(cache.Place(key_, dir_ / "src/rootfs-b", {meta_[0]}, "20240102_05:24"));
  EXPECT_EQ(Names(d), (std::vector<std::string>{"build_id", "config", "rootfs.tar.xz"}));
  EXPECT_EQ(Read(d / "rootfs.tar.xz"), "rootfs B");
  EXPECT_EQ(cache.BuildId(key_), "20240102_05:24");
  EXPECT_EQ(Names(dir_ / "cache/debian/bookworm/amd64", false),
            std::vector<std::string>{"default"});
}

TEST_F(LxcCacheTest, RemoveOnlyTheBuildAskedFor) {
  LxcCache cache(dir_ / "cache");
  ASSERT_TRUE(cache.Place(key_, dir_ / "src/rootfs-a", meta_, "20240101_05:24"));
  auto other = cache.Remove(key_, "20990101_00:00");
  ASSERT_TRUE(other);
  EXPECT_FALSE(*other);
  EXPECT_TRUE(fs::exists(dir_ / "cache/debian/bookworm/amd64/default/rootfs.tar.xz"));
  auto removed = cache.Remove(key_, "20240101_05:24");
  ASSERT_TRUE(removed);
  EXPECT_TRUE(*removed);
  EXPECT_EQ(Names(dir_ / "cache/debian/bookworm/amd64", false), std::vector<std::string>{});
  EXPECT_EQ(cache.BuildId(key_), std::nullopt);
}

TEST_F(LxcCacheTest, RefusesUnsafeKeysAndDoesNothingWhenOff) {
  LxcCache cache(dir_ / "cache");
  for (const CacheKey& bad :
       {CacheKey{"..", "x", "amd64", "default"}, CacheKey{"debian", "a/b", "amd64", "default"},
        CacheKey{"debian", "", "amd64", "default"}, CacheKey{"debian", "x", "amd64", ".hidden"}}) {
    auto s = cache.Place(bad, dir_ / "src/rootfs-a", meta_, "1");
    ASSERT_FALSE(s) << bad.RelativePath();
    EXPECT_EQ(s.error().code, Code::kInvalidArgument);
  }
  EXPECT_FALSE(fs::exists(dir_ / "cache"));
  LxcCache off("");
  EXPECT_FALSE(off.enabled());
  EXPECT_TRUE(off.Place(key_, dir_ / "src/rootfs-a", meta_, "1"));
  EXPECT_EQ(off.BuildId(key_), std::nullopt);
}

TEST_F(LxcCacheTest, ForgetPutsTheRemainingBuildBack) {
  auto store = content::BlobStore::Open(dir_ / "store");
  ASSERT_TRUE(store) << store.error().message;
  // These records name no meta.tar.xz, so a build put back has its rootfs and build_id.
  LxcCache cache(dir_ / "cache");
  std::string rootfs_a = "rootfs A", rootfs_b = "rootfs B";
  Digest da = Digest::Of(rootfs_a), db = Digest::Of(rootfs_b);
  ASSERT_TRUE((*store)->Put(da, rootfs_a));
  ASSERT_TRUE((*store)->Put(db, rootfs_b));

  auto record = [&](const std::string& tag, const std::string& serial, const Digest& d,
                    int64_t created) {
    LxcImageInfo info;
    info.serial = serial;
    info.protocol = "simplestreams";
    info.files = {{"rootfs", d.str(), 8, ""}};
    info.cache_key = key_;
    metadata::ImageRecord r;
    r.type = "lxc";
    r.name = "debian-bookworm";
    r.tag = tag;
    r.created_at = created;
    r.extra = info.ToJson();
    return r;
  };
  auto latest = record("latest", "20240102_05:24", db, 20);
  auto pinned = record("20240101_05:24", "20240101_05:24", da, 10);
  ASSERT_TRUE(cache.Place(key_, (*store)->BlobPath(db), meta_, "20240102_05:24"));

  // Deleting a build the cache does not hold leaves the cache alone.
  cache.Forget({pinned}, {latest}, **store);
  EXPECT_EQ(cache.BuildId(key_), "20240102_05:24");

  // Deleting the cached build puts the remaining one back (it has no meta file here).
  cache.Forget({latest}, {pinned}, **store);
  EXPECT_EQ(cache.BuildId(key_), "20240101_05:24");
  EXPECT_EQ(Read(dir_ / "cache/debian/bookworm/amd64/default/rootfs.tar.xz"), "rootfs A");

  // Deleting the last one empties it.
  cache.Forget({pinned}, {}, **store);
  EXPECT_EQ(cache.BuildId(key_), std::nullopt);
}

TEST(LxcImageInfoTest, RoundTrips) {
  LxcImageInfo info;
  info.serial = "20240101_05:24";
  info.protocol = "lxc-download";
  info.server = "http://127.0.0.1:1";
  info.files = {{"rootfs", "sha256:" + std::string(64, 'a'), 10, "http://x/rootfs.tar.xz"},
                {"meta", "sha256:" + std::string(64, 'b'), 2, "http://x/meta.tar.xz"}};
  info.cache_key = CacheKey{"debian", "bookworm", "amd64", "default"};
  auto back = LxcImageInfo::FromJson(info.ToJson());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->serial, info.serial);
  EXPECT_EQ(back->server, info.server);
  ASSERT_EQ(back->files.size(), 2u);
  EXPECT_EQ(back->File("meta")->size, 2);
  EXPECT_EQ(back->cache_key, info.cache_key);
  EXPECT_FALSE(LxcImageInfo::FromJson(R"({"repo_digest":"sha256:x"})"));
  EXPECT_FALSE(LxcImageInfo::FromJson("not json"));
}

}  // namespace
}  // namespace wharf::lxc
