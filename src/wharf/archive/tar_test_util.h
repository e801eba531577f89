// Test-only: a strict reader of the tars the archive module writes (ustar headers, octal or
// GNU base-256 numbers, zero padding, two zero blocks at the end), and a fixture with a blob
// store of images in a temporary directory.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/archive/tar_header.h"
#include "wharf/base/digest.h"
#include "wharf/content/blob_store.h"

namespace wharf::archive {

struct TarFile {
  std::string name;
  char type = 0;
  int64_t size = 0;
  std::string content;
};

// Reads a numeric ustar field, octal or GNU base-256.
inline int64_t TarNumber(const char* field, size_t width) {
  if (static_cast<unsigned char>(field[0]) & 0x80) {
    uint64_t v = static_cast<unsigned char>(field[0]) & 0x7f;
    for (size_t i = 1; i < width; ++i) v = (v << 8) | static_cast<unsigned char>(field[i]);
    return static_cast<int64_t>(v);
  }
  return std::stoll(std::string(field, strnlen(field, width)), nullptr, 8);
}

// Checks one header block as a strict reader would; returns the entry without its content.
inline TarFile ParseHeader(std::string_view h) {
  TarFile f;
  f.name = std::string(h.data(), strnlen(h.data(), 100));
  f.size = TarNumber(h.data() + 124, 12);
  f.type = h[156];
  EXPECT_EQ(std::string(h.data() + 257, 6), std::string("ustar\0", 6)) << f.name;
  EXPECT_EQ(h.substr(263, 2), "00") << f.name;
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i) {
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
  }
  EXPECT_EQ(TarNumber(h.data() + 148, 7), sum) << f.name;
  EXPECT_EQ(h[155], ' ') << f.name;
  return f;
}

// Splits a whole archive into entries: every content padded with zeros to its block, and
// exactly two zero blocks at the end.
inline std::vector<TarFile> ParseTar(const std::string& tar) {
  std::vector<TarFile> out;
  EXPECT_EQ(tar.size() % 512, 0u);
  size_t pos = 0;
  const std::string zero(512, '\0');
  while (pos + 512 <= tar.size() && tar.compare(pos, 512, zero) != 0) {
    TarFile f = ParseHeader(std::string_view(tar).substr(pos, 512));
    pos += 512;
    f.content = tar.substr(pos, static_cast<size_t>(f.size));
    pos += static_cast<size_t>(f.size);
    size_t pad = static_cast<size_t>(TarPadding(f.size));
    EXPECT_EQ(tar.substr(pos, pad), std::string(pad, '\0')) << f.name;
    pos += pad;
    out.push_back(std::move(f));
  }
  EXPECT_EQ(tar.size() - pos, 1024u) << "the archive ends with two zero blocks";
  EXPECT_EQ(tar.substr(pos), std::string(1024, '\0'));
  return out;
}

inline std::vector<std::string> Names(const std::vector<TarFile>& files) {
  std::vector<std::string> names;
  for (const auto& f : files) names.push_back(f.name);
  return names;
}

// A fresh blob store in a temporary directory, and blobs and image manifests put into it.
class ArchiveStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("wharf-archive-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    auto store = content::BlobStore::Open(dir_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_ = std::move(*store);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Digest Put(const std::string& data) {
    Digest d = Digest::Of(data);
    EXPECT_TRUE(store_->Put(d, data).has_value());
    blobs_[d.hex()] = data;
    return d;
  }
  // A Docker image manifest of a config and layers already Put.
  Digest PutManifest(const Digest& config, const std::vector<Digest>& layers) {
    nlohmann::json m = {{"schemaVersion", 2},
                        {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"}};
    m["config"] = {{"mediaType", "application/vnd.docker.container.image.v1+json"},
                   {"digest", config.str()},
                   {"size", blobs_[config.hex()].size()}};
    m["layers"] = nlohmann::json::array();
    for (const auto& l : layers) {
      m["layers"].push_back({{"mediaType", "application/vnd.docker.image.rootfs.diff.tar.gzip"},
                             {"digest", l.str()},
                             {"size", blobs_[l.hex()].size()}});
    }
    return Put(m.dump());
  }

  std::filesystem::path dir_;
  std::unique_ptr<content::BlobStore> store_;
  std::map<std::string, std::string> blobs_;  // hex -> content
};

}  // namespace wharf::archive
