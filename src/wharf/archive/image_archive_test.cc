#include "wharf/archive/image_archive.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "wharf/archive/tar_header.h"
#include "wharf/archive/tar_test_util.h"
#include "wharf/content/blob_store_test_util.h"
#include "wharf/content/gzip_test_util.h"

namespace wharf::archive {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(ImageArchive& a, size_t chunk) {
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

// The archive as Parts() describes it, its file ranges read with pread(2).
std::string ReadParts(const ImageArchive& a) {
  std::string out;
  for (const auto& part : a.Parts()) {
    if (part.fd < 0) {
      EXPECT_EQ(static_cast<int64_t>(part.bytes.size()), part.length);
      out.append(part.bytes);
      continue;
    }
    std::string buf(static_cast<size_t>(part.length), '\0');
    ssize_t n = ::pread(part.fd, buf.data(), buf.size(), part.offset);
    EXPECT_EQ(n, part.length);
    out += buf;
  }
  return out;
}

Result<std::unique_ptr<ImageArchive>> OpenOne(const content::BlobStore& store,
                                              const ArchiveImage& image, ArchiveFormat format) {
  return ImageArchive::Open(store, {image}, format);
}

class ImageArchiveTest : public ArchiveStoreTest {
 protected:
  // An image of a config, a gzip layer and an uncompressed one a whole number of blocks long.
  ArchiveImage TwoLayerImage(std::vector<std::string> tags) {
    config_ = Put(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}})");
    gz_ = Put(content::Gzip(content::RandomBytes(70000, 1), 6));
    plain_ = Put(content::RandomBytes(512 * 3, 2));
    manifest_ = PutManifest(config_, {gz_, plain_});
    auto image = ImageOfManifest(*store_, manifest_, std::move(tags));
    EXPECT_TRUE(image.has_value()) << image.error().message;
    return *image;
  }
  // Each blobs/sha256/ entry holds the blob of its name.
  void ExpectBlobsAsStored(const std::vector<TarFile>& files) {
    for (const auto& f : files) {
      if (!f.name.starts_with("blobs/sha256/") || f.name == "blobs/sha256/") continue;
      const std::string hex = f.name.substr(13);
      EXPECT_EQ(f.type, '0');
      EXPECT_EQ(f.content, blobs_[hex]) << f.name;
      EXPECT_EQ(f.size, static_cast<int64_t>(blobs_[hex].size()));
    }
  }
  std::string Blob(const Digest& d) { return "blobs/sha256/" + d.hex(); }

  Digest config_, gz_, plain_, manifest_;
};

TEST_F(ImageArchiveTest, DockerFormatHoldsManifestConfigAndLayersAsStored) {
  ArchiveImage image = TwoLayerImage({"docker.io/library/ubuntu:latest"});
  EXPECT_EQ(image.config, config_);
  EXPECT_EQ(image.layers, (std::vector<Digest>{gz_, plain_}));
  EXPECT_EQ(image.manifest.digest, manifest_);
  EXPECT_EQ(image.manifest.media_type, "application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_EQ(image.manifest.size, static_cast<int64_t>(blobs_[manifest_.hex()].size()));

  auto archive = OpenOne(*store_, image, ArchiveFormat::kDocker);
  ASSERT_TRUE(archive.has_value()) << archive.error().message;
  int64_t announced = (*archive)->size();
  std::string tar = ReadAll(**archive, 7);
  EXPECT_EQ(static_cast<int64_t>(tar.size()), announced);
  EXPECT_EQ((*archive)->offset(), announced);

  auto files = ParseTar(tar);
  EXPECT_EQ(Names(files), (std::vector<std::string>{"manifest.json", "blobs/", "blobs/sha256/",
                                                    Blob(config_), Blob(gz_), Blob(plain_)}));
  EXPECT_EQ(files[0].type, '0');
  EXPECT_EQ(files[1].type, '5');
  EXPECT_EQ(files[2].type, '5');
  nlohmann::json expected =
      nlohmann::json::array({{{"Config", Blob(config_)},
                              {"RepoTags", {"docker.io/library/ubuntu:latest"}},
                              {"Layers", {Blob(gz_), Blob(plain_)}}}});
  EXPECT_EQ(nlohmann::json::parse(files[0].content), expected);
  ExpectBlobsAsStored(files);
}

TEST_F(ImageArchiveTest, OciFormatIsAnImageLayoutWithTheManifest) {
  ArchiveImage image = TwoLayerImage({"docker.io/lgsd/diamond:1.0"});
  auto archive = OpenOne(*store_, image, ArchiveFormat::kOci);
  ASSERT_TRUE(archive.has_value()) << archive.error().message;
  std::string tar = ReadAll(**archive, 4096);
  EXPECT_EQ(static_cast<int64_t>(tar.size()), (*archive)->size());
  auto files = ParseTar(tar);
  EXPECT_EQ(Names(files), (std::vector<std::string>{"oci-layout", "index.json", "manifest.json",
                                                    "blobs/", "blobs/sha256/", Blob(manifest_),
                                                    Blob(config_), Blob(gz_), Blob(plain_)}));
  EXPECT_EQ(nlohmann::json::parse(files[0].content),
            nlohmann::json({{"imageLayoutVersion", "1.0.0"}}));
  auto index = nlohmann::json::parse(files[1].content);
  EXPECT_EQ(index["schemaVersion"], 2);
  EXPECT_EQ(index["mediaType"], "application/vnd.oci.image.index.v1+json");
  ASSERT_EQ(index["manifests"].size(), 1u);
  nlohmann::json descriptor = {
      {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
      {"digest", manifest_.str()},
      {"size", blobs_[manifest_.hex()].size()},
      {"annotations",
       {{"io.containerd.image.name", "docker.io/lgsd/diamond:1.0"},
        {"org.opencontainers.image.ref.name", "lgsd/diamond:1.0"}}}};
  EXPECT_EQ(index["manifests"][0], descriptor);
  EXPECT_EQ(nlohmann::json::parse(files[2].content)[0]["Config"], Blob(config_));
  ExpectBlobsAsStored(files);
}

TEST_F(ImageArchiveTest, SameBytesWhateverTheReadSize) {
  ArchiveImage image = TwoLayerImage({"docker.io/lgsd/diamond:latest"});
  for (ArchiveFormat format : {ArchiveFormat::kDocker, ArchiveFormat::kOci}) {
    std::string first;
    for (size_t chunk : {1, 511, 512, 4096, 1 << 20}) {
      auto archive = OpenOne(*store_, image, format);
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
}

TEST_F(ImageArchiveTest, PartsDescribeTheBytesReadGives) {
  ArchiveImage image = TwoLayerImage({"docker.io/library/ubuntu:latest"});
  for (ArchiveFormat format : {ArchiveFormat::kDocker, ArchiveFormat::kOci}) {
    auto archive = OpenOne(*store_, image, format);
    ASSERT_TRUE(archive.has_value());
    auto parts = (*archive)->Parts();
    int64_t total = 0;
    size_t files = 0;
    for (const auto& p : parts) {
      total += p.length;
      if (p.fd >= 0) ++files;
    }
    EXPECT_EQ(total, (*archive)->size());
    EXPECT_EQ(files, format == ArchiveFormat::kOci ? 4u : 3u) << "one file part per blob";
    std::string described = ReadParts(**archive);
    EXPECT_EQ(described, ReadAll(**archive, 3000));
    EXPECT_EQ(ReadParts(**archive), described) << "Parts() moves no file position";
  }
}

TEST_F(ImageArchiveTest, SharedBlobsAreWrittenOnce) {
  Digest base = Put(content::RandomBytes(3000, 4));
  Digest top_a = Put(content::RandomBytes(1000, 5));
  Digest config_a = Put(R"({"a":1})");
  Digest config_b = Put(R"({"b":1})");
  auto a = ImageOfManifest(*store_, PutManifest(config_a, {base, top_a}),
                           {"docker.io/team/a:1", "docker.io/team/a:2"});
  auto b = ImageOfManifest(*store_, PutManifest(config_b, {base}), {});
  ASSERT_TRUE(a.has_value() && b.has_value());
  for (ArchiveFormat format : {ArchiveFormat::kDocker, ArchiveFormat::kOci}) {
    auto archive = ImageArchive::Open(*store_, {*a, *b}, format);
    ASSERT_TRUE(archive.has_value());
    auto files = ParseTar(ReadAll(**archive, 4096));
    auto names = Names(files);
    EXPECT_EQ(std::ranges::count(names, Blob(base)), 1);
    const size_t metadata = format == ArchiveFormat::kOci ? 3 : 1;
    const size_t blobs = format == ArchiveFormat::kOci ? 6 : 4;  // + 2 manifests
    EXPECT_EQ(files.size(), metadata + 2 + blobs);
    auto m = nlohmann::json::parse(files[metadata - 1].content);
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(m[0]["RepoTags"], nlohmann::json({"docker.io/team/a:1", "docker.io/team/a:2"}));
    EXPECT_EQ(m[1]["RepoTags"], nlohmann::json::array());
    EXPECT_EQ(m[1]["Layers"], nlohmann::json({Blob(base)}));
    ExpectBlobsAsStored(files);
  }
}

// GNU tar reads what the archive writes: names, types and sizes as `tar -tv` lists them.
TEST_F(ImageArchiveTest, GnuTarListsTheArchive) {
  ArchiveImage image = TwoLayerImage({"docker.io/library/ubuntu:latest"});
  auto archive = OpenOne(*store_, image, ArchiveFormat::kOci);
  ASSERT_TRUE(archive.has_value());
  const fs::path file = dir_ / "out.tar";
  std::ofstream(file, std::ios::binary) << ReadAll(**archive, 1 << 16);
  FILE* p = ::popen(("tar -tvf " + file.string() + " 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string listing;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) listing.append(buf, n);
  ASSERT_EQ(::pclose(p), 0) << listing;
  std::map<std::string, std::pair<char, int64_t>> seen;  // name -> (type, size)
  std::istringstream lines(listing);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string mode, owner, date, time, name;
    int64_t size = -1;
    words >> mode >> owner >> size >> date >> time >> name;
    seen[name] = {mode[0], size};
  }
  EXPECT_EQ(seen.size(), 9u) << listing;
  EXPECT_EQ(seen["blobs/sha256/"], (std::pair<char, int64_t>{'d', 0}));
  EXPECT_EQ(seen["index.json"].first, '-');
  for (const Digest& d : {manifest_, config_, gz_, plain_}) {
    EXPECT_EQ(seen[Blob(d)],
              (std::pair<char, int64_t>{'-', static_cast<int64_t>(blobs_[d.hex()].size())}));
  }
}

TEST_F(ImageArchiveTest, MissingBlobIsNotFound) {
  Digest config = Put(R"({"os":"linux"})");
  Digest absent = Digest::Of("never stored");
  ArchiveImage image{{"docker.io/library/x:1"}, {}, config, {absent}};
  auto archive = OpenOne(*store_, image, ArchiveFormat::kDocker);
  ASSERT_FALSE(archive.has_value());
  EXPECT_EQ(archive.error().code, Code::kNotFound);
  EXPECT_NE(archive.error().message.find(absent.str()), std::string::npos);
  auto unknown = ImageOfManifest(*store_, absent, {});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, Code::kNotFound);
  auto not_manifest = ImageOfManifest(*store_, config, {});
  ASSERT_FALSE(not_manifest.has_value());
  EXPECT_EQ(not_manifest.error().code, Code::kInvalidArgument);
  EXPECT_FALSE(ImageArchive::Open(*store_, {}, ArchiveFormat::kDocker).has_value());
}

TEST_F(ImageArchiveTest, BlobsDeletedAfterOpenAreStillRead) {
  Digest config = Put(R"({"os":"linux"})");
  std::string bytes = content::RandomBytes(9000, 6);
  Digest layer = Put(bytes);
  ArchiveImage image{{"docker.io/library/x:1"}, {}, config, {layer}};
  auto archive = OpenOne(*store_, image, ArchiveFormat::kDocker);
  ASSERT_TRUE(archive.has_value());
  ASSERT_TRUE(store_->Delete(layer).has_value());
  auto files = ParseTar(ReadAll(**archive, 1000));
  ASSERT_EQ(files.size(), 5u);
  EXPECT_EQ(files[4].content, bytes);
}

TEST_F(ImageArchiveTest, BlobThatShrinksIsDataLoss) {
  Digest config = Put(R"({"os":"linux"})");
  Digest layer = Put(content::RandomBytes(9000, 7));
  ArchiveImage image{{"docker.io/library/x:1"}, {}, config, {layer}};
  auto archive = OpenOne(*store_, image, ArchiveFormat::kDocker);
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
