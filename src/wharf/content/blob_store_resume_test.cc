// Resuming ingests from partial files: after a destroyed Ingest, a killed writer process,
// damaged or oversized partial files, and partial files that end mid-block.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "wharf/content/blob_store.h"
#include "wharf/content/blob_store_test_util.h"

namespace wharf::content {
namespace {

using ::testing::HasSubstr;

TEST_F(BlobStoreTest, ResumesFromPartialAfterIngestIsDestroyed) {
  const std::string data = RandomBytes(5 << 20, 4);
  const Digest d = Digest::Of(data);
  const size_t half = data.size() / 2;
  LeavePartial(data, half, 40000);  // buffered bytes are flushed when the Ingest goes
  EXPECT_EQ(store_->PartialSize(d), static_cast<int64_t>(half));
  EXPECT_FALSE(store_->Has(d));

  auto ingest = Start(d, static_cast<int64_t>(data.size()));
  ASSERT_NE(ingest, nullptr);
  ASSERT_EQ(ingest->offset(), static_cast<int64_t>(half));
  ASSERT_TRUE(WriteInChunks(*ingest, std::string_view(data).substr(half), 40000));
  auto committed = ingest->Commit();
  ASSERT_TRUE(committed.has_value()) << committed.error().ToString();
  EXPECT_TRUE(store_->Has(d));
}

TEST_F(BlobStoreTest, CorruptedPartialIsCaughtAtCommit) {
  const std::string data = RandomBytes(3 << 20, 5);
  const Digest d = Digest::Of(data);
  const size_t half = data.size() / 2;
  LeavePartial(data, half, half);
  {
    // Bit rot (or a bug) between sessions.
    std::fstream partial(root_ / "ingest" / (d.hex() + ".partial"),
                         std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(partial.is_open());
    partial.seekp(12345);
    partial.put(static_cast<char>(data[12345] ^ 1));
  }
  auto ingest = Start(d, static_cast<int64_t>(data.size()));
  ASSERT_NE(ingest, nullptr);
  ASSERT_EQ(ingest->offset(), static_cast<int64_t>(half));
  ASSERT_TRUE(ingest->Write(data.data() + half, data.size() - half));
  auto committed = ingest->Commit();
  ASSERT_FALSE(committed.has_value());
  EXPECT_EQ(committed.error().code, Code::kDataLoss);
  EXPECT_THAT(committed.error().message, HasSubstr("digest mismatch for " + d.str()));
  EXPECT_FALSE(store_->Has(d));
  EXPECT_EQ(store_->PartialSize(d), 0);
}

TEST_F(BlobStoreTest, PartialLongerThanExpectedStartsOver) {
  const std::string data = RandomBytes(1000, 6);
  const Digest d = Digest::Of(data);
  ASSERT_TRUE(WriteFileAtomic(root_ / "ingest" / (d.hex() + ".partial"), RandomBytes(1500, 7)));
  auto ingest = Start(d, 1000);
  ASSERT_NE(ingest, nullptr);
  EXPECT_EQ(ingest->offset(), 0);
  EXPECT_EQ(store_->PartialSize(d), 0);
  ASSERT_TRUE(ingest->Write(data.data(), data.size()));
  ASSERT_TRUE(ingest->Commit());
  EXPECT_TRUE(store_->Has(d));
}

// A stop after the last byte and before the rename leaves a partial file of the full size:
// it is the blob, so nothing is left to download.
TEST_F(BlobStoreTest, PartialOfTheFullSizeNeedsOnlyACommit) {
  const std::string data = RandomBytes(3000, 15);
  const Digest d = Digest::Of(data);
  ASSERT_TRUE(WriteFileAtomic(root_ / "ingest" / (d.hex() + ".partial"), data));
  auto ingest = Start(d, 3000);
  ASSERT_NE(ingest, nullptr);
  EXPECT_EQ(ingest->offset(), 3000);
  auto committed = ingest->Commit();
  ASSERT_TRUE(committed.has_value()) << committed.error().ToString();
  EXPECT_EQ(Slurp(store_->BlobPath(d)), data);
}

// The same size but other bytes is not a prefix of the blob either: start over.
TEST_F(BlobStoreTest, PartialOfTheFullSizeWithOtherBytesStartsOver) {
  const std::string data = RandomBytes(3000, 16);
  const Digest d = Digest::Of(data);
  std::string damaged = data;
  damaged[2999] ^= 1;
  ASSERT_TRUE(WriteFileAtomic(root_ / "ingest" / (d.hex() + ".partial"), damaged));
  auto ingest = Start(d, 3000);
  ASSERT_NE(ingest, nullptr);
  EXPECT_EQ(ingest->offset(), 0);
  EXPECT_EQ(store_->PartialSize(d), 0);
  ASSERT_TRUE(WriteInChunks(*ingest, data, 1000));
  auto committed = ingest->Commit();
  ASSERT_TRUE(committed.has_value()) << committed.error().ToString();
  EXPECT_EQ(Slurp(store_->BlobPath(d)), data);
}

// The writer process dies half-way (SIGKILL: no destructors, no flush). The store must not show
// the blob, must have nothing under blobs/, and a new ingest must resume from the partial.
[[noreturn]] void RunWriterUntilKilled(const fs::path& root, std::string_view data, size_t until,
                                       int progress_fd) {
  auto store = BlobStore::Open(root);
  if (!store) ::_exit(1);
  auto ingest = (*store)->StartIngest(Digest::Of(data), static_cast<int64_t>(data.size()));
  if (!ingest || !*ingest) ::_exit(2);
  // 300 KiB pieces leave bytes in the write buffer when the kill comes.
  if (!WriteInChunks(**ingest, data.substr(0, until), 300 << 10)) ::_exit(3);
  char progress = 'h';
  if (::write(progress_fd, &progress, 1) != 1) ::_exit(4);
  while (true) ::pause();
}

TEST_F(BlobStoreTest, KillingTheWriterHalfWayLeavesOnlyAResumablePartial) {
  const std::string data = RandomBytes(64 << 20, 14);
  const Digest d = Digest::Of(data);
  const size_t half = data.size() / 2;
  store_.reset();  // the child opens its own store, as a separate process would

  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pipe_fds[0]);
    RunWriterUntilKilled(root_, data, half, pipe_fds[1]);
  }
  ::close(pipe_fds[1]);
  char progress = 0;
  ssize_t got;
  do {
    got = ::read(pipe_fds[0], &progress, 1);
  } while (got < 0 && errno == EINTR);
  ::close(pipe_fds[0]);
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_EQ(got, 1) << "writer exited early with status " << status;
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);

  EXPECT_TRUE(FileNames(blobs_dir()).empty());
  auto store = BlobStore::Open(root_);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  EXPECT_FALSE((*store)->Has(d));
  EXPECT_TRUE((*store)->List().empty());
  const int64_t partial = (*store)->PartialSize(d);
  EXPECT_GT(partial, 0);
  EXPECT_LE(partial, static_cast<int64_t>(half));

  auto ingest = (*store)->StartIngest(d, static_cast<int64_t>(data.size()));
  ASSERT_TRUE(ingest.has_value()) << ingest.error().ToString();
  ASSERT_NE(*ingest, nullptr);
  ASSERT_EQ((*ingest)->offset(), partial);
  ASSERT_TRUE(WriteInChunks(**ingest, std::string_view(data).substr(partial), 1 << 20));
  auto committed = (*ingest)->Commit();
  ASSERT_TRUE(committed.has_value()) << committed.error().ToString();
  EXPECT_TRUE((*store)->Has(d));
  EXPECT_EQ((*store)->Size(d).value_or(-1), static_cast<int64_t>(data.size()));
  EXPECT_EQ(FileNames(blobs_dir()), std::vector<std::string>{d.hex()});
}

// Direct I/O needs block-aligned offsets: a partial that ends mid-block (its tail went
// through the page cache) must resume and commit byte-exact, and so must odd-sized chunks
// and tails on both sides of a buffer boundary.
TEST_F(BlobStoreTest, UnalignedPartialsAndTailsStayByteExact) {
  const std::string data = RandomBytes((3 << 20) + 4097, 11);
  const Digest d = Digest::Of(data);
  const size_t cut = (1 << 20) + 12345;  // not a multiple of any block size
  LeavePartial(data, cut, 16383);
  EXPECT_EQ(store_->PartialSize(d), static_cast<int64_t>(cut));
  auto ingest = Start(d, static_cast<int64_t>(data.size()));
  ASSERT_NE(ingest, nullptr);
  ASSERT_EQ(ingest->offset(), static_cast<int64_t>(cut));
  ASSERT_TRUE(WriteInChunks(*ingest, std::string_view(data).substr(cut), 3 << 19));
  auto committed = ingest->Commit();
  ASSERT_TRUE(committed.has_value()) << committed.error().ToString();
  EXPECT_EQ(Slurp(store_->BlobPath(d)), data);
}

}  // namespace
}  // namespace wharf::content
