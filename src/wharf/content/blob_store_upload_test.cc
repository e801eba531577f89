// Uploads into the blob store: blobs whose digest is known only once their bytes are in.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "wharf/content/blob_store.h"
#include "wharf/content/blob_store_test_util.h"

namespace wharf::content {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class UploadTest : public BlobStoreTest {
 protected:
  std::unique_ptr<Upload> StartUpload() {
    auto upload = store_->StartUpload();
    EXPECT_TRUE(upload.has_value()) << upload.error().ToString();
    return upload ? std::move(*upload) : nullptr;
  }

  // Writes `data` in pieces of `chunk` bytes.
  static void WriteAll(Upload& upload, std::string_view data, size_t chunk) {
    for (size_t at = 0; at < data.size(); at += chunk) {
      std::string_view piece = data.substr(at, chunk);
      ASSERT_TRUE(upload.Write(piece.data(), piece.size()));
    }
  }

  std::vector<std::string> Ingests() const { return FileNames(root_ / "ingest"); }
};

TEST_F(UploadTest, CommitGivesTheDigestAndTheBlob) {
  // Sizes around the 1 MiB write buffer and the 4 KiB direct I/O blocks.
  for (size_t size : {size_t{0}, size_t{1}, size_t{4096}, size_t{1} << 20, (size_t{3} << 20) + 7}) {
    SCOPED_TRACE(size);
    const std::string data = RandomBytes(size, size);
    auto upload = StartUpload();
    ASSERT_NE(upload, nullptr);
    ASSERT_THAT(Ingests(), SizeIs(1));
    EXPECT_THAT(Ingests()[0], testing::MatchesRegex("upload-[0-9a-f]+\\.tmp"));
    WriteAll(*upload, data, 100000);
    EXPECT_EQ(upload->size(), static_cast<int64_t>(size));
    EXPECT_EQ(upload->digest_so_far(), Digest::Of(data));
    EXPECT_FALSE(store_->Has(Digest::Of(data)));  // nothing under blobs/ before Commit
    std::vector<Digest> pinned;
    auto committed = upload->Commit(std::nullopt, [&](const Digest& d) {
      EXPECT_FALSE(store_->Has(d));  // called before the rename
      pinned.push_back(d);
    });
    ASSERT_TRUE(committed.has_value()) << committed.error().ToString();
    EXPECT_EQ(*committed, Digest::Of(data));
    EXPECT_EQ(pinned, std::vector<Digest>{*committed});
    EXPECT_EQ(Slurp(store_->BlobPath(*committed)), data);
    EXPECT_THAT(Ingests(), IsEmpty());
    // Done: no more writes or commits.
    EXPECT_FALSE(upload->Write("x", 1));
    EXPECT_EQ(upload->Commit().error().code, Code::kInternal);
    upload.reset();
    EXPECT_TRUE(store_->Has(*committed));
  }
}

TEST_F(UploadTest, ExpectedDigestMismatchIsDataLossAndLeavesNothing) {
  const std::string data = RandomBytes(200000, 1);
  const Digest expected = Digest::Of("something else");
  auto upload = StartUpload();
  ASSERT_NE(upload, nullptr);
  WriteAll(*upload, data, 4096);
  bool pinned = false;
  auto committed = upload->Commit(expected, [&](const Digest&) { pinned = true; });
  ASSERT_FALSE(committed.has_value());
  EXPECT_EQ(committed.error().code, Code::kDataLoss);
  EXPECT_THAT(committed.error().message, HasSubstr(expected.str()));
  EXPECT_THAT(committed.error().message, HasSubstr(Digest::Of(data).str()));
  EXPECT_FALSE(pinned);
  EXPECT_FALSE(store_->Has(Digest::Of(data)));
  EXPECT_THAT(FileNames(blobs_dir()), IsEmpty());
  EXPECT_THAT(Ingests(), IsEmpty());
}

TEST_F(UploadTest, ExpectedDigestThatMatches) {
  auto upload = StartUpload();
  ASSERT_NE(upload, nullptr);
  ASSERT_TRUE(upload->Write("layer", 5));
  auto committed = upload->Commit(Digest::Of("layer"));
  ASSERT_TRUE(committed.has_value()) << committed.error().ToString();
  EXPECT_TRUE(store_->Has(Digest::Of("layer")));
}

TEST_F(UploadTest, AlreadyPresentIsSuccessAndLeavesTheBlobAlone) {
  const std::string data = RandomBytes(10000, 2);
  const Digest d = Digest::Of(data);
  ASSERT_TRUE(store_->Put(d, data));
  const auto before = fs::last_write_time(store_->BlobPath(d));
  auto upload = StartUpload();
  ASSERT_NE(upload, nullptr);
  WriteAll(*upload, data, 333);
  std::vector<Digest> pinned;
  auto committed = upload->Commit(d, [&](const Digest& p) { pinned.push_back(p); });
  ASSERT_TRUE(committed.has_value()) << committed.error().ToString();
  EXPECT_EQ(*committed, d);
  EXPECT_EQ(pinned, std::vector<Digest>{d});  // pinned all the same: the blob must stay
  EXPECT_EQ(fs::last_write_time(store_->BlobPath(d)), before);
  EXPECT_THAT(Ingests(), IsEmpty());
}

TEST_F(UploadTest, AbortAndDestructorRemoveTheTempFile) {
  auto upload = StartUpload();
  ASSERT_NE(upload, nullptr);
  WriteAll(*upload, RandomBytes(3 << 20, 3), 65536);  // some of it on disk already
  ASSERT_THAT(Ingests(), SizeIs(1));
  upload->Abort();
  EXPECT_THAT(Ingests(), IsEmpty());
  upload->Abort();  // idempotent
  EXPECT_FALSE(upload->Write("x", 1));
  EXPECT_FALSE(upload->Commit());
  upload.reset();

  upload = StartUpload();
  ASSERT_NE(upload, nullptr);
  WriteAll(*upload, RandomBytes(5000, 4), 1000);
  upload.reset();
  EXPECT_THAT(Ingests(), IsEmpty());
  EXPECT_THAT(FileNames(blobs_dir()), IsEmpty());
}

TEST_F(UploadTest, UploadsRunSideBySideAlsoOfTheSameBytes) {
  auto a = StartUpload(), b = StartUpload();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_THAT(Ingests(), SizeIs(2));
  const std::string data = RandomBytes(50000, 5);
  WriteAll(*a, data, 7000);
  WriteAll(*b, data, 9000);
  auto first = a->Commit(), second = b->Commit();
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(Slurp(store_->BlobPath(*first)), data);
  EXPECT_THAT(Ingests(), IsEmpty());
}

TEST_F(UploadTest, RemovePartialsRemovesStrayUploadsButNotLiveOnes) {
  // A crash's leftover, old or new, goes; a live upload stays and still commits.
  for (const std::string name : {"upload-0123abcd.tmp", "upload-feedface.tmp"}) {
    std::ofstream(root_ / "ingest" / name) << "half an archive entry";
  }
  fs::last_write_time(root_ / "ingest" / "upload-0123abcd.tmp",
                      fs::file_time_type::clock::now() - std::chrono::hours(1));
  auto live = StartUpload();
  ASSERT_NE(live, nullptr);
  ASSERT_TRUE(live->Write("live", 4));
  ASSERT_THAT(Ingests(), SizeIs(3));
  store_->RemovePartials({});
  ASSERT_THAT(Ingests(), SizeIs(1));
  ASSERT_TRUE(live->Write(" bytes", 6));
  auto committed = live->Commit();
  ASSERT_TRUE(committed.has_value()) << committed.error().ToString();
  EXPECT_EQ(Slurp(store_->BlobPath(*committed)), "live bytes");
}

TEST_F(UploadTest, OpenRemovesStrayUploads) {
  std::ofstream(root_ / "ingest" / "upload-0123abcd.tmp") << "killed mid-import";
  const Digest partial = Digest::Of("resumable");
  std::ofstream(root_ / "ingest" / (partial.hex() + ".partial")) << "resum";
  store_.reset();
  auto reopened = BlobStore::Open(root_);
  ASSERT_TRUE(reopened.has_value()) << reopened.error().ToString();
  EXPECT_EQ(FileNames(root_ / "ingest"), std::vector<std::string>{partial.hex() + ".partial"});
}

// tmpfs refuses O_DIRECT after creating the file: the upload's exclusive create still works.
TEST(UploadOnTmpfsTest, UploadsWhereDirectIoIsRefused) {
  if (!fs::is_directory("/dev/shm")) GTEST_SKIP() << "no /dev/shm";
  const fs::path root = fs::path("/dev/shm") / ("wharf-upload-test-" + RandomHex(8));
  {
    auto store = BlobStore::Open(root);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    auto upload = (*store)->StartUpload();
    ASSERT_TRUE(upload.has_value()) << upload.error().ToString();
    const std::string data = RandomBytes((2 << 20) + 5, 6);
    ASSERT_TRUE((*upload)->Write(data.data(), data.size()));
    auto committed = (*upload)->Commit();
    ASSERT_TRUE(committed.has_value()) << committed.error().ToString();
    EXPECT_EQ(Slurp((*store)->BlobPath(*committed)), data);
  }
  std::error_code ec;
  fs::remove_all(root, ec);
}

}  // namespace
}  // namespace wharf::content
