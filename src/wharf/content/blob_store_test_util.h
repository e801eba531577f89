// Test-only helpers shared by the blob store's tests: deterministic random bytes, chunked
// writes, directory listings and a fixture with a fresh store in a temporary directory.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/base/file_util.h"
#include "wharf/content/blob_store.h"

namespace wharf::content {

namespace fs = std::filesystem;

inline std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t word = rng();
    std::memcpy(out.data() + i, &word, std::min<size_t>(8, n - i));
  }
  return out;
}

inline Result<void> WriteInChunks(Ingest& ingest, std::string_view data, size_t chunk) {
  for (size_t pos = 0; pos < data.size(); pos += chunk) {
    std::string_view piece = data.substr(pos, chunk);
    WHARF_RETURN_IF_ERROR(ingest.Write(piece.data(), piece.size()));
  }
  return {};
}

inline std::vector<std::string> FileNames(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

inline std::string Slurp(const fs::path& path) {
  auto data = ReadFile(path);
  EXPECT_TRUE(data.has_value()) << path;
  return data.value_or("");
}

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("wharf-blob-store-test-" + RandomHex(8));
    auto store = BlobStore::Open(root_);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  fs::path blobs_dir() const { return root_ / "blobs" / "sha256"; }

  std::unique_ptr<Ingest> Start(const Digest& d, int64_t expected_size) {
    auto ingest = store_->StartIngest(d, expected_size);
    EXPECT_TRUE(ingest.has_value()) << ingest.error().ToString();
    return ingest ? std::move(*ingest) : nullptr;
  }

  // Writes data[0, n) in `chunk`-sized pieces through an Ingest of the whole of `data` that is
  // then destroyed without Commit: a partial file to resume from.
  void LeavePartial(std::string_view data, size_t n, size_t chunk) {
    auto ingest = Start(Digest::Of(data), static_cast<int64_t>(data.size()));
    ASSERT_NE(ingest, nullptr);
    ASSERT_TRUE(WriteInChunks(*ingest, data.substr(0, n), chunk));
  }

  fs::path root_;
  std::unique_ptr<BlobStore> store_;
};

}  // namespace wharf::content
