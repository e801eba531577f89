#include "wharf/archive/docker_archive.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wharf/archive/tar_header.h"
#include "wharf/content/blob_store_test_util.h"
#include "wharf/content/gzip_test_util.h"

namespace wharf::archive {
namespace {

namespace fs = std::filesystem;

struct TarFile {
  std::string name;
  char type = 0;
  int64_t size = 0;
  std::string content;
};

// Reads a numeric ustar field, octal or GNU base-256.
int64_t TarNumber(const char* field, size_t width) {
  if (static_cast<unsigned char>(field[0]) & 0x80) {
    uint64_t v = static_cast<unsigned char>(field[0]) & 0x7f;
    for (size_t i = 1; i < width; ++i) v = (v << 8) | static_cast<unsigned char>(field[i]);
    return static_cast<int64_t>(v);
  }
  return std::stoll(std::string(field, strnlen(field, width)), nullptr, 8);
}

// Checks one header block as a strict reader would; returns the entry without its content.
TarFile ParseHeader(std::string_view h) {
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
std::vector<TarFile> ParseTar(const std::string& tar) {
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

std::string ReadAll(DockerArchive& a, size_t chunk) {
  std::string out;
  std::string buf(chunk, '\0');
  for (;;) {
    auto n = a.Read(buf.data(), chunk);
    EXPECT_TRUE(n.has_value()) << n.error().message;
    if (!n || *n == 0) return out;
    EXPECT_LE(*n, chunk);
    out.append(buf.data(), *n);
  }
}

class DockerArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wharf-archive-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    auto store = content::BlobStore::Open(dir_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_ = std::move(*store);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Digest Put(const std::string& data) {
    Digest d = Digest::Of(data);
    EXPECT_TRUE(store_->Put(d, data).has_value());
    blobs_[d.hex()] = data;
    return d;
  }
  // An image manifest of a config and layers already Put.
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

  fs::path dir_;
  std::unique_ptr<content::BlobStore> store_;
  std::map<std::string, std::string> blobs_;  // hex -> content
};

TEST_F(DockerArchiveTest, WritesManifestConfigAndLayersAsStored) {
  Digest config = Put(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}})");
  Digest gz = Put(content::Gzip(content::RandomBytes(70000, 1), 6));
  Digest plain = Put(content::RandomBytes(512 * 3, 2));  // a whole number of blocks
  Digest manifest = PutManifest(config, {gz, plain});
  auto image = ImageOfManifest(*store_, manifest, {"ubuntu:latest"});
  ASSERT_TRUE(image.has_value()) << image.error().message;
  EXPECT_EQ(image->config, config);
  EXPECT_EQ(image->layers, (std::vector<Digest>{gz, plain}));

  auto archive = DockerArchive::Open(*store_, {*image});
  ASSERT_TRUE(archive.has_value()) << archive.error().message;
  int64_t announced = (*archive)->size();
  std::string tar = ReadAll(**archive, 7);
  EXPECT_EQ(static_cast<int64_t>(tar.size()), announced);
  EXPECT_EQ((*archive)->offset(), announced);

  auto files = ParseTar(tar);
  ASSERT_EQ(files.size(), 6u);
  EXPECT_EQ(files[0].name, "manifest.json");
  EXPECT_EQ(files[0].type, '0');
  EXPECT_EQ(files[1].name, "blobs/");
  EXPECT_EQ(files[1].type, '5');
  EXPECT_EQ(files[2].name, "blobs/sha256/");
  auto m = nlohmann::json::parse(files[0].content);
  nlohmann::json expected = nlohmann::json::array(
      {{{"Config", "blobs/sha256/" + config.hex()},
        {"RepoTags", {"ubuntu:latest"}},
        {"Layers", {"blobs/sha256/" + gz.hex(), "blobs/sha256/" + plain.hex()}}}});
  EXPECT_EQ(m, expected);
  EXPECT_EQ(files[0].content, (*archive)->manifest_json());
  for (size_t i = 3; i < files.size(); ++i) {
    ASSERT_EQ(files[i].name.rfind("blobs/sha256/", 0), 0u) << files[i].name;
    const std::string hex = files[i].name.substr(13);
    EXPECT_EQ(files[i].type, '0');
    EXPECT_EQ(files[i].content, blobs_[hex]) << files[i].name;
    EXPECT_EQ(files[i].size, static_cast<int64_t>(blobs_[hex].size()));
  }
  EXPECT_EQ(files[3].name, "blobs/sha256/" + config.hex());
}

TEST_F(DockerArchiveTest, SameBytesWhateverTheReadSize) {
  Digest config = Put(R"({"os":"linux"})");
  Digest layer = Put(content::RandomBytes(100001, 3));
  auto image = ImageOfManifest(*store_, PutManifest(config, {layer}), {"lgsd/diamond:latest"});
  ASSERT_TRUE(image.has_value());
  std::string first;
  for (size_t chunk : {1, 511, 512, 4096, 1 << 20}) {
    auto archive = DockerArchive::Open(*store_, {*image});
    ASSERT_TRUE(archive.has_value());
    std::string tar = ReadAll(**archive, chunk);
    if (first.empty()) first = tar;
    EXPECT_EQ(tar, first) << "chunk " << chunk;
    char c;
    auto again = (*archive)->Read(&c, 1);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(*again, 0u) << "the end stays the end";
  }
}

TEST_F(DockerArchiveTest, SharedBlobsAreWrittenOnce) {
  Digest base = Put(content::RandomBytes(3000, 4));
  Digest top_a = Put(content::RandomBytes(1000, 5));
  Digest config_a = Put(R"({"a":1})");
  Digest config_b = Put(R"({"b":1})");
  auto a = ImageOfManifest(*store_, PutManifest(config_a, {base, top_a}), {"team/a:1", "team/a:2"});
  auto b = ImageOfManifest(*store_, PutManifest(config_b, {base}), {});
  ASSERT_TRUE(a.has_value() && b.has_value());
  auto archive = DockerArchive::Open(*store_, {*a, *b});
  ASSERT_TRUE(archive.has_value());
  auto files = ParseTar(ReadAll(**archive, 4096));
  std::vector<std::string> names;
  for (const auto& f : files) names.push_back(f.name);
  EXPECT_EQ(std::ranges::count(names, "blobs/sha256/" + base.hex()), 1);
  EXPECT_EQ(files.size(), 3u + 4u);  // manifest.json, 2 dirs, 2 configs, 2 layers
  auto m = nlohmann::json::parse(files[0].content);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0]["RepoTags"], nlohmann::json({"team/a:1", "team/a:2"}));
  EXPECT_EQ(m[1]["RepoTags"], nlohmann::json::array());
  EXPECT_EQ(m[1]["Layers"], nlohmann::json({"blobs/sha256/" + base.hex()}));
}

TEST_F(DockerArchiveTest, MissingBlobIsNotFound) {
  Digest config = Put(R"({"os":"linux"})");
  Digest absent = Digest::Of("never stored");
  auto archive = DockerArchive::Open(*store_, {ArchiveImage{{"x:1"}, config, {absent}}});
  ASSERT_FALSE(archive.has_value());
  EXPECT_EQ(archive.error().code, Code::kNotFound);
  EXPECT_NE(archive.error().message.find(absent.str()), std::string::npos);
  auto image = ImageOfManifest(*store_, absent, {});
  ASSERT_FALSE(image.has_value());
  EXPECT_EQ(image.error().code, Code::kNotFound);
  auto not_manifest = ImageOfManifest(*store_, config, {});
  ASSERT_FALSE(not_manifest.has_value());
  EXPECT_EQ(not_manifest.error().code, Code::kInvalidArgument);
  EXPECT_FALSE(DockerArchive::Open(*store_, {}).has_value());
}

TEST_F(DockerArchiveTest, BlobsDeletedAfterOpenAreStillRead) {
  Digest config = Put(R"({"os":"linux"})");
  std::string bytes = content::RandomBytes(9000, 6);
  Digest layer = Put(bytes);
  auto archive = DockerArchive::Open(*store_, {ArchiveImage{{"x:1"}, config, {layer}}});
  ASSERT_TRUE(archive.has_value());
  ASSERT_TRUE(store_->Delete(layer).has_value());
  auto files = ParseTar(ReadAll(**archive, 1000));
  ASSERT_EQ(files.size(), 5u);
  EXPECT_EQ(files[4].content, bytes);
}

TEST_F(DockerArchiveTest, BlobThatShrinksIsDataLoss) {
  Digest config = Put(R"({"os":"linux"})");
  Digest layer = Put(content::RandomBytes(9000, 7));
  auto archive = DockerArchive::Open(*store_, {ArchiveImage{{"x:1"}, config, {layer}}});
  ASSERT_TRUE(archive.has_value());
  fs::resize_file(store_->BlobPath(layer), 100);
  std::string buf(4096, '\0');
  Result<size_t> n = 0;
  do {
    n = (*archive)->Read(buf.data(), buf.size());
  } while (n.has_value() && *n > 0);
  ASSERT_FALSE(n.has_value()) << "the archive must not end early";
  EXPECT_EQ(n.error().code, Code::kDataLoss);
  EXPECT_FALSE((*archive)->Read(buf.data(), buf.size()).has_value()) << "and it stays failed";
}

TEST(TarHeaderTest, SizesFromEightGibUseBase256) {
  const int64_t big = (int64_t{1} << 33) + 12345;
  auto h = TarHeader("blobs/sha256/big", big, TarEntry::kFile);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(static_cast<unsigned char>((*h)[124]) & 0x80, 0x80);
  EXPECT_EQ(ParseHeader(*h).size, big);
  auto small = TarHeader("f", (int64_t{1} << 33) - 1, TarEntry::kFile);
  ASSERT_TRUE(small.has_value());
  EXPECT_EQ(std::string(small->data() + 124, 12), std::string("77777777777\0", 12));
}

TEST(TarHeaderTest, RefusesNamesUstarCannotHold) {
  EXPECT_TRUE(TarHeader(std::string(100, 'a'), 0, TarEntry::kFile).has_value());
  EXPECT_FALSE(TarHeader(std::string(101, 'a'), 0, TarEntry::kFile).has_value());
  EXPECT_FALSE(TarHeader("", 0, TarEntry::kFile).has_value());
  EXPECT_FALSE(TarHeader("f", -1, TarEntry::kFile).has_value());
}

}  // namespace
}  // namespace wharf::archive
