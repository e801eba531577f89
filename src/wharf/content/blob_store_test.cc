// The blob store: its layout, ingests and their failures, concurrent ingests, Put, Read,
// Delete, the index, and file modes. Resuming from partial files: blob_store_resume_test.cc.
#include "wharf/content/blob_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "wharf/base/file_util.h"
#include "wharf/content/blob_store_test_util.h"

namespace wharf::content {
namespace {

using ::testing::HasSubstr;

unsigned ModeOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

mode_t CurrentUmask() {
  mode_t mask = ::umask(0);
  ::umask(mask);
  return mask;
}

TEST_F(BlobStoreTest, OpenLaysOutAnOciImageLayout) {
  EXPECT_EQ(Slurp(root_ / "oci-layout"), R"({"imageLayoutVersion":"1.0.0"})");
  EXPECT_EQ(Slurp(root_ / "index.json"),
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
            R"("manifests":[]})");
  EXPECT_EQ(ModeOf(blobs_dir()), 0755u & ~CurrentUmask());
  EXPECT_EQ(ModeOf(root_ / "ingest"), 0755u & ~CurrentUmask());
  // Reopening keeps what is there.
  ASSERT_TRUE(store_->WriteIndex({{Digest::Of("m"), "application/x", 1, "a:b", ""}}));
  std::string index = Slurp(root_ / "index.json");
  ASSERT_TRUE(BlobStore::Open(root_).has_value());
  EXPECT_EQ(Slurp(root_ / "index.json"), index);
}

TEST_F(BlobStoreTest, IngestCommitRoundTrip) {
  const std::string data = RandomBytes((3 << 20) + 123, 1);
  const Digest d = Digest::Of(data);
  auto ingest = Start(d, static_cast<int64_t>(data.size()));
  ASSERT_NE(ingest, nullptr);
  EXPECT_EQ(ingest->offset(), 0);
  // Small writes go through the buffer, big ones around it.
  ASSERT_TRUE(WriteInChunks(*ingest, std::string_view(data).substr(0, 100000), 1000));
  ASSERT_TRUE(WriteInChunks(*ingest, std::string_view(data).substr(100000), 1500000));
  EXPECT_EQ(ingest->offset(), static_cast<int64_t>(data.size()));
  EXPECT_FALSE(store_->Has(d));  // not before Commit
  auto committed = ingest->Commit();
  ASSERT_TRUE(committed.has_value()) << committed.error().ToString();
  ingest.reset();

  EXPECT_TRUE(store_->Has(d));
  EXPECT_EQ(store_->Size(d).value_or(-1), static_cast<int64_t>(data.size()));
  auto read = store_->Read(d, 8 << 20);
  ASSERT_TRUE(read.has_value()) << read.error().ToString();
  EXPECT_TRUE(*read == data);
  EXPECT_EQ(ModeOf(store_->BlobPath(d)), 0644u & ~CurrentUmask());
  EXPECT_EQ(store_->PartialSize(d), 0);
  EXPECT_TRUE(FileNames(root_ / "ingest").empty());
  EXPECT_EQ(store_->List(), std::vector<Digest>{d});

  // Present now: nothing to download.
  auto again = store_->StartIngest(d, static_cast<int64_t>(data.size()));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, nullptr);
}

TEST_F(BlobStoreTest, UnknownSizeIngest) {
  const std::string data = RandomBytes(5000, 2);
  const Digest d = Digest::Of(data);
  auto ingest = Start(d, -1);
  ASSERT_NE(ingest, nullptr);
  ASSERT_TRUE(ingest->Write(data.data(), data.size()));
  ASSERT_TRUE(ingest->Commit());
  EXPECT_TRUE(store_->Has(d));
}

TEST_F(BlobStoreTest, WrongDigestLeavesNothingBehind) {
  const std::string data = RandomBytes(2 << 20, 3);
  const Digest claimed = Digest::Of("something else");
  auto ingest = Start(claimed, static_cast<int64_t>(data.size()));
  ASSERT_NE(ingest, nullptr);
  ASSERT_TRUE(WriteInChunks(*ingest, data, 64 << 10));
  auto committed = ingest->Commit();
  ASSERT_FALSE(committed.has_value());
  EXPECT_EQ(committed.error().code, Code::kDataLoss);
  EXPECT_EQ(committed.error().message,
            "digest mismatch for " + claimed.str() + ": got " + Digest::Of(data).str());
  ingest.reset();
  EXPECT_FALSE(store_->Has(claimed));
  EXPECT_TRUE(FileNames(blobs_dir()).empty());
  EXPECT_TRUE(FileNames(root_ / "ingest").empty());
}

TEST_F(BlobStoreTest, WritePastExpectedSizeIsRefused) {
  const std::string data = "0123456789";
  const Digest d = Digest::Of(data);
  auto ingest = Start(d, 10);
  ASSERT_NE(ingest, nullptr);
  ASSERT_TRUE(ingest->Write(data.data(), 6));
  auto over = ingest->Write("abcde", 5);
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().code, Code::kDataLoss);
  EXPECT_EQ(over.error().message, "blob " + d.str() + " is larger than the expected 10 bytes");
  // The refused bytes were not taken; the right ones still complete the blob.
  EXPECT_EQ(ingest->offset(), 6);
  ASSERT_TRUE(ingest->Write(data.data() + 6, 4));
  ASSERT_TRUE(ingest->Commit());
  EXPECT_TRUE(store_->Has(d));
}

TEST_F(BlobStoreTest, ShortBlobFailsCommit) {
  const Digest d = Digest::Of("0123456789");
  auto ingest = Start(d, 10);
  ASSERT_NE(ingest, nullptr);
  ASSERT_TRUE(ingest->Write("01234", 5));
  auto committed = ingest->Commit();
  ASSERT_FALSE(committed.has_value());
  EXPECT_EQ(committed.error().code, Code::kDataLoss);
  EXPECT_THAT(committed.error().message, HasSubstr("size mismatch for " + d.str()));
  EXPECT_EQ(store_->PartialSize(d), 0);
  EXPECT_FALSE(store_->Has(d));
}

TEST_F(BlobStoreTest, RestartDropsWhatWasWritten) {
  const std::string data = RandomBytes(300000, 8);
  const Digest d = Digest::Of(data);
  auto ingest = Start(d, static_cast<int64_t>(data.size()));
  ASSERT_NE(ingest, nullptr);
  ASSERT_TRUE(ingest->Write(data.data() + 100, 250000));  // wrong bytes: server ignored Range
  ASSERT_TRUE(ingest->Restart());
  EXPECT_EQ(ingest->offset(), 0);
  EXPECT_EQ(store_->PartialSize(d), 0);
  ASSERT_TRUE(WriteInChunks(*ingest, data, 7000));
  auto committed = ingest->Commit();
  ASSERT_TRUE(committed.has_value()) << committed.error().ToString();
  EXPECT_TRUE(store_->Has(d));
}

TEST_F(BlobStoreTest, AbortRemovesPartial) {
  const std::string data = RandomBytes(4000, 9);
  const Digest d = Digest::Of(data);
  auto ingest = Start(d, -1);
  ASSERT_NE(ingest, nullptr);
  ASSERT_TRUE(ingest->Write(data.data(), data.size()));
  ingest->Abort();
  EXPECT_FALSE(ingest->Write(data.data(), 1).has_value());
  ingest.reset();
  EXPECT_FALSE(fs::exists(root_ / "ingest" / (d.hex() + ".partial")));
  EXPECT_FALSE(store_->Has(d));
}

TEST_F(BlobStoreTest, SecondIngestOfSameDigestWaitsThenSeesBlob) {
  const std::string data = RandomBytes(1 << 20, 10);
  const Digest d = Digest::Of(data);
  auto first = Start(d, static_cast<int64_t>(data.size()));
  ASSERT_NE(first, nullptr);

  std::atomic<bool> second_returned = false;
  Result<std::unique_ptr<Ingest>> second = nullptr;
  std::thread waiter([&] {
    second = store_->StartIngest(d, static_cast<int64_t>(data.size()));
    second_returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_FALSE(second_returned) << "StartIngest did not wait for the live Ingest";
  ASSERT_TRUE(first->Write(data.data(), data.size()));
  ASSERT_TRUE(first->Commit());
  first.reset();
  waiter.join();
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_EQ(*second, nullptr);
  EXPECT_TRUE(store_->Has(d));
}

TEST_F(BlobStoreTest, SecondIngestProceedsAfterFirstAborts) {
  const std::string data = RandomBytes(10000, 11);
  const Digest d = Digest::Of(data);
  auto first = Start(d, -1);
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->Write(data.data(), 500));
  Result<std::unique_ptr<Ingest>> second = nullptr;
  std::thread waiter([&] { second = store_->StartIngest(d, -1); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  first->Abort();
  first.reset();
  waiter.join();
  ASSERT_TRUE(second.has_value());
  ASSERT_NE(*second, nullptr);
  EXPECT_EQ((*second)->offset(), 0);
}

TEST_F(BlobStoreTest, ConcurrentIngestsOfDifferentBlobs) {
  constexpr int kThreads = 4;
  std::vector<std::string> blobs;
  for (int i = 0; i < kThreads; ++i) blobs.push_back(RandomBytes((1 << 20) + i, 20 + i));
  std::vector<std::thread> threads;
  std::atomic<int> committed = 0;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto ingest = store_->StartIngest(Digest::Of(blobs[i]), -1);
      if (!ingest || !*ingest) return;
      if (WriteInChunks(**ingest, blobs[i], 32768) && (*ingest)->Commit()) ++committed;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(committed, kThreads);
  EXPECT_EQ(store_->List().size(), static_cast<size_t>(kThreads));
}

TEST_F(BlobStoreTest, PutVerifiesAndIsIdempotent) {
  const std::string data = R"({"schemaVersion":2})";
  const Digest d = Digest::Of(data);
  auto wrong = store_->Put(Digest::Of("other"), data);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code, Code::kDataLoss);
  EXPECT_TRUE(FileNames(blobs_dir()).empty());

  ASSERT_TRUE(store_->Put(d, data));
  ASSERT_TRUE(store_->Put(d, data));
  EXPECT_EQ(store_->Read(d).value_or(""), data);
  EXPECT_EQ(FileNames(blobs_dir()), std::vector<std::string>{d.hex()});
}

// kLater leaves the directory fsync to SyncBlobNames(), which one call does for every change
// before it; kNow syncs at once, also when it finds the blob present and others pending.
TEST_F(BlobStoreTest, NamesPlacedLaterAreSyncedOnceForAll) {
  const std::string config = R"({"a":1})";
  const std::string layer = RandomBytes(70000, 3);
  ASSERT_TRUE(store_->Put(Digest::Of(config), config, NameSync::kLater));
  auto in = store_->StartIngest(Digest::Of(layer), static_cast<int64_t>(layer.size()));
  ASSERT_TRUE(in.has_value() && *in != nullptr);
  ASSERT_TRUE((*in)->Write(layer.data(), layer.size()));
  ASSERT_TRUE((*in)->Commit(NameSync::kLater));
  // Both are present and whole before the sync: only their names wait.
  EXPECT_EQ(store_->Read(Digest::Of(layer)).value_or(""), layer);
  EXPECT_EQ(store_->NamesPendingSync(), 2u);
  ASSERT_TRUE(store_->Put(Digest::Of(config), config, NameSync::kLater));  // present: no change
  EXPECT_EQ(store_->NamesPendingSync(), 2u);
  ASSERT_TRUE(store_->SyncBlobNames());
  EXPECT_EQ(store_->NamesPendingSync(), 0u);
  ASSERT_TRUE(store_->SyncBlobNames());  // nothing pending: nothing to do

  ASSERT_TRUE(store_->Delete(Digest::Of(config), NameSync::kLater));
  EXPECT_EQ(store_->NamesPendingSync(), 1u);
  EXPECT_FALSE(store_->Has(Digest::Of(config)));
  ASSERT_TRUE(store_->Put(Digest::Of(layer), layer));  // kNow, present: syncs what is pending
  EXPECT_EQ(store_->NamesPendingSync(), 0u);
  ASSERT_TRUE(store_->Put(Digest::Of(config), config));
  EXPECT_EQ(store_->NamesPendingSync(), 0u);
}

TEST_F(BlobStoreTest, ReadSizeDeleteAndList) {
  const std::string data = RandomBytes(5000, 12);
  const Digest d = Digest::Of(data);
  const Digest absent = Digest::Of("absent");
  ASSERT_TRUE(store_->Put(d, data));

  auto too_large = store_->Read(d, 4999);
  ASSERT_FALSE(too_large.has_value());
  EXPECT_EQ(too_large.error().code, Code::kTooLarge);
  EXPECT_EQ(store_->Read(absent).error().code, Code::kNotFound);
  EXPECT_EQ(store_->Size(absent).error().code, Code::kNotFound);
  EXPECT_EQ(store_->Size(d).value_or(-1), 5000);

  // Stray names under blobs/ are not blobs.
  ASSERT_TRUE(WriteFileAtomic(blobs_dir() / "README", "x"));
  ASSERT_TRUE(WriteFileAtomic(blobs_dir() / std::string(64, 'A'), "x"));
  EXPECT_EQ(store_->List(), std::vector<Digest>{d});

  ASSERT_TRUE(store_->Delete(d));
  EXPECT_FALSE(store_->Has(d));
  ASSERT_TRUE(store_->Delete(d));  // absent is fine
  EXPECT_TRUE(store_->List().empty());
}

TEST_F(BlobStoreTest, WriteIndexWritesDescriptorsWithAnnotations) {
  const Digest a = Digest::Of("manifest a");
  const Digest b = Digest::Of("manifest b");
  ASSERT_TRUE(store_->WriteIndex({
      {a, "application/vnd.oci.image.manifest.v1+json", 1234, "ubuntu:latest",
       "docker.io/library/ubuntu:latest"},
      {b, "application/vnd.docker.distribution.manifest.v2+json", 99, "", ""},
  }));
  auto index = nlohmann::json::parse(Slurp(root_ / "index.json"), nullptr, false);
  ASSERT_FALSE(index.is_discarded());
  EXPECT_EQ(index["schemaVersion"], 2);
  EXPECT_EQ(index["mediaType"], "application/vnd.oci.image.index.v1+json");
  ASSERT_EQ(index["manifests"].size(), 2u);
  const auto& first = index["manifests"][0];
  EXPECT_EQ(first["digest"], a.str());
  EXPECT_EQ(first["size"], 1234);
  EXPECT_EQ(first["mediaType"], "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(first["annotations"]["org.opencontainers.image.ref.name"], "ubuntu:latest");
  EXPECT_EQ(first["annotations"]["io.containerd.image.name"], "docker.io/library/ubuntu:latest");
  const auto& second = index["manifests"][1];
  EXPECT_EQ(second["digest"], b.str());
  EXPECT_FALSE(second.contains("annotations"));
  // No temp file left behind.
  for (const auto& name : FileNames(root_)) EXPECT_THAT(name, ::testing::Not(HasSubstr(".tmp-")));
}

TEST_F(BlobStoreTest, WriteIndexLeavesAnUnchangedIndexAlone) {
  const std::vector<BlobStore::IndexEntry> one = {
      {Digest::Of("m1"), "application/vnd.oci.image.manifest.v1+json", 10, "a:1", "x/a:1"}};
  auto two = one;
  two.push_back({Digest::Of("m2"), "application/vnd.oci.image.manifest.v1+json", 20, "b:1", ""});
  auto inode = [&] {
    struct stat st {};
    EXPECT_EQ(::stat((root_ / "index.json").c_str(), &st), 0);
    return st.st_ino;
  };
  ASSERT_TRUE(store_->WriteIndex(one));
  const auto first = inode();
  const std::string text = Slurp(root_ / "index.json");
  ASSERT_TRUE(store_->WriteIndex(one));  // same text: no temp file, no rename
  EXPECT_EQ(inode(), first);
  EXPECT_EQ(Slurp(root_ / "index.json"), text);
  ASSERT_TRUE(store_->WriteIndex(two));  // changed: replaced whole
  EXPECT_NE(inode(), first);
  auto index = nlohmann::json::parse(Slurp(root_ / "index.json"));
  EXPECT_EQ(index["manifests"].size(), 2u);
}

TEST_F(BlobStoreTest, OpenRemovesTempFilesButKeepsPartials) {
  const Digest d = Digest::Of("partial blob");
  {
    auto ingest = Start(d, -1);
    ASSERT_NE(ingest, nullptr);
    ASSERT_TRUE(ingest->Write("partial", 7));
  }
  store_.reset();
  for (const fs::path& p : {blobs_dir() / (d.hex() + ".tmp-0123456789abcdef"),
                            root_ / "index.json.tmp-0123456789abcdef"}) {
    std::ofstream(p) << "crash leftover";
  }
  auto reopened = BlobStore::Open(root_);
  ASSERT_TRUE(reopened.has_value());
  EXPECT_TRUE(FileNames(blobs_dir()).empty());
  EXPECT_EQ(FileNames(root_),
            (std::vector<std::string>{"blobs", "index.json", "ingest", "oci-layout"}));
  EXPECT_EQ((*reopened)->PartialSize(d), 7);
}

TEST_F(BlobStoreTest, RemovePartialsKeepsListedAndActive) {
  const Digest keep = Digest::Of("keep");
  const Digest drop = Digest::Of("drop");
  const Digest active = Digest::Of("active");
  for (const Digest& d : {keep, drop}) {
    auto ingest = Start(d, -1);
    ASSERT_NE(ingest, nullptr);
    ASSERT_TRUE(ingest->Write("abc", 3));
  }
  auto live = Start(active, -1);
  ASSERT_NE(live, nullptr);
  ASSERT_TRUE(live->Write("abcdef", 6));
  store_->RemovePartials({keep});
  EXPECT_EQ(store_->PartialSize(keep), 3);
  EXPECT_EQ(store_->PartialSize(drop), 0);
  EXPECT_TRUE(fs::exists(root_ / "ingest" / (active.hex() + ".partial")));
  ASSERT_TRUE(live->Write("ghi", 3));
}

TEST_F(BlobStoreTest, FullDiskSurfacesAsError) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  const std::string data = RandomBytes(3 << 20, 13);
  const Digest d = Digest::Of(data);
  // Every write into this "partial" fails with ENOSPC.
  fs::create_symlink("/dev/full", root_ / "ingest" / (d.hex() + ".partial"));
  auto ingest = Start(d, static_cast<int64_t>(data.size()));
  ASSERT_NE(ingest, nullptr);
  ASSERT_TRUE(ingest->Write(data.data(), 1000));  // buffered
  auto written = ingest->Write(data.data() + 1000, 2 << 20);
  ASSERT_FALSE(written.has_value());
  EXPECT_THAT(written.error().message, HasSubstr("no space left on device"));
  // The Ingest is unusable after an I/O error; Commit says so instead of committing.
  EXPECT_FALSE(ingest->Commit().has_value());
  EXPECT_FALSE(store_->Has(d));
  // A full buffer is written on another thread: its failure is reported by Commit.
  ingest.reset();  // one Ingest per digest at a time
  ingest = Start(d, static_cast<int64_t>(data.size()));
  ASSERT_NE(ingest, nullptr);
  ASSERT_TRUE(ingest->Write(data.data(), 1 << 20));  // handed to the writer
  auto committed = ingest->Commit();
  ASSERT_FALSE(committed.has_value());
  EXPECT_THAT(committed.error().message, HasSubstr("no space left on device"));
}

// tmpfs refuses O_DIRECT; the store falls back to buffered writes there.
TEST(BlobStoreOnTmpfsTest, IngestsWhereDirectIoIsRefused) {
  if (!fs::is_directory("/dev/shm")) GTEST_SKIP() << "no /dev/shm";
  const fs::path root = fs::path("/dev/shm") / ("wharf-blob-store-test-" + RandomHex(8));
  {
    auto store = BlobStore::Open(root);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    const std::string data = RandomBytes((2 << 20) + 333, 12);
    const Digest d = Digest::Of(data);
    auto ingest = (*store)->StartIngest(d, static_cast<int64_t>(data.size()));
    ASSERT_TRUE(ingest.has_value()) << ingest.error().ToString();
    ASSERT_TRUE(WriteInChunks(**ingest, data, 100000));
    auto committed = (**ingest).Commit();
    ASSERT_TRUE(committed.has_value()) << committed.error().ToString();
    EXPECT_EQ(Slurp((*store)->BlobPath(d)), data);
  }
  std::error_code ec;
  fs::remove_all(root, ec);
}

}  // namespace
}  // namespace wharf::content
