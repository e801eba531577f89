// ArchiveImport's refusals: each bad archive gives the code and message its header promises,
// and leaves no upload temp file and no pin behind (the fixture checks after every import).
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wharf/content/gzip_test_util.h"
#include "wharf/service/archive_import.h"
#include "wharf/service/archive_import_test_util.h"

namespace wharf::service {
namespace {

using Json = nlohmann::json;

// `want` is a part of the error's message.
#define EXPECT_INVALID(status, want)                                                          \
  do {                                                                                        \
    const Status s_ = (status);                                                               \
    EXPECT_EQ(s_.code, Code::kInvalidArgument) << s_.message;                                 \
    EXPECT_NE(s_.message.find(want), std::string::npos) << s_.message << "\nwant " << (want); \
  } while (0)

// A docker archive of one image with its manifest.json replaced by `manifest`.
std::string WithManifest(const TestImage& image, const std::string& manifest) {
  TarWriter tar;
  for (size_t i = 0; i < image.layers.size(); ++i) {
    tar.File(std::to_string(i + 1) + "/layer.tar", image.layers[i]);
  }
  tar.File("config.json", image.config);
  return tar.File("manifest.json", manifest).Finish();
}

Json Manifest(const Json& layers, const Json& repo_tags = {"app:1"}) {
  return {{{"Config", "config.json"}, {"RepoTags", repo_tags}, {"Layers", layers}}};
}

using ArchiveImportErrorsTest = ArchiveImportTest;

TEST_F(ArchiveImportErrorsTest, NotATar) {
  EXPECT_INVALID(ImportError(std::string(2048, 'x')), "not a tar archive");
  EXPECT_INVALID(ImportError("hello"), "not a tar archive: 5 bytes, less than a tar header");
  EXPECT_INVALID(ImportError(""), "not a tar archive: the stream is empty");
  EXPECT_INVALID(ImportError(content::Gzip(std::string(4096, 'y'), 6)), "not a tar archive");
  EXPECT_INVALID(ImportError(std::string("\xfd"
                                         "7zXZ\0\0 some xz bytes",
                                         21)),
                 "xz-compressed archives");
}

TEST_F(ArchiveImportErrorsTest, Truncated) {
  const TestImage image = MakeImage({"cut"});
  const std::string archive = DockerLegacyArchive(image, {"cut:1"});
  // Inside the layer (an upload is open then), and inside the gzip stream of the archive.
  const size_t in_layer = archive.find("cut0,") + 100;
  EXPECT_INVALID(ImportError(archive.substr(0, in_layer)),
                 "truncated tar archive (inside entry 1/layer.tar)");
  const std::string gzipped = content::Gzip(archive, 6);
  EXPECT_INVALID(ImportError(gzipped.substr(0, gzipped.size() / 2)), "truncated gzip stream");
  EXPECT_INVALID(ImportError(archive.substr(0, 512 + 100)), "truncated tar archive");
}

TEST_F(ArchiveImportErrorsTest, NeitherManifestJsonNorIndexJson) {
  const TestImage image = MakeImage({"alone"});
  const std::string archive = TarWriter().File("layer.tar", image.layers[0]).Finish();
  EXPECT_INVALID(ImportError(archive),
                 "the archive has no manifest.json (docker save) nor index.json (OCI layout)");
  EXPECT_INVALID(ImportError(TarWriter().Finish()), "has no manifest.json");
  // A manifest.json below the top is not the archive's.
  EXPECT_INVALID(ImportError(TarWriter().File("x/manifest.json", "[]").Finish()),
                 "has no manifest.json");
}

TEST_F(ArchiveImportErrorsTest, MalformedJson) {
  const TestImage image = MakeImage({"json"});
  EXPECT_INVALID(ImportError(WithManifest(image, "[{\"Config\":")),
                 "manifest.json in the archive is not valid JSON");
  EXPECT_INVALID(ImportError(WithManifest(image, "{}")),
                 "manifest.json in the archive lists no image");
  EXPECT_INVALID(ImportError(WithManifest(image, "[]")),
                 "manifest.json in the archive lists no image");
  EXPECT_INVALID(ImportError(WithManifest(image, R"([{"Layers":[]}])")),
                 "manifest.json in the archive: an image without Config or Layers");
  EXPECT_INVALID(ImportError(WithManifest(image, Manifest({1}).dump())),
                 "manifest.json in the archive: a bad layer");
  EXPECT_INVALID(ImportError(TarWriter().File("index.json", "{\"manifests\": [").Finish()),
                 "index.json in the archive");
  EXPECT_INVALID(ImportError(TarWriter().File("index.json", "{\"manifests\": [").Finish()),
                 "not valid JSON");
  const std::string bad_config = TarWriter()
                                     .File("1/layer.tar", image.layers[0])
                                     .File("config.json", "{\"rootfs\":")
                                     .File("manifest.json", Manifest({"1/layer.tar"}).dump())
                                     .Finish();
  EXPECT_INVALID(ImportError(bad_config), "image config is not valid JSON");
}

TEST_F(ArchiveImportErrorsTest, AMetadataFileOverTheLimit) {
  std::string big = "[" + std::string(kMaxArchiveMetadata, ' ') + "]";
  EXPECT_INVALID(ImportError(TarWriter().File("manifest.json", big).Finish()),
                 "manifest.json in the archive is over 4194304 bytes");
}

TEST_F(ArchiveImportErrorsTest, ALayerOrConfigMissing) {
  const TestImage image = MakeImage({"a", "b"});
  EXPECT_INVALID(ImportError(WithManifest(image, Manifest({"1/layer.tar", "9/layer.tar"}).dump())),
                 "layer 9/layer.tar is missing from the archive");
  Json no_config = Manifest({"1/layer.tar", "2/layer.tar"});
  no_config[0]["Config"] = "absent.json";
  EXPECT_INVALID(ImportError(WithManifest(image, no_config.dump())),
                 "config absent.json is missing from the archive");
  // OCI: a manifest, a config or a layer the index leads to but the archive lacks.
  OciLayout oci;
  Json named = Annotated(oci.AddImage(image, false), {{"io.containerd.image.name", "x:1"}});
  OciLayout no_layer = oci;
  no_layer.blobs.erase(image.diff_ids[1].hex());
  EXPECT_INVALID(ImportError(no_layer.Tar({named})),
                 "layer " + image.diff_ids[1].str() + " is missing from the archive");
  OciLayout no_oci_config = oci;
  no_oci_config.blobs.erase(image.config_digest.hex());
  EXPECT_INVALID(ImportError(no_oci_config.Tar({named})),
                 "config " + image.config_digest.str() + " is missing from the archive");
  OciLayout no_manifest = oci;
  no_manifest.blobs.erase(Digest::Parse(named["digest"].get<std::string>())->hex());
  EXPECT_INVALID(ImportError(no_manifest.Tar({named})),
                 "manifest " + named["digest"].get<std::string>() + " is missing from the archive");
  EXPECT_INVALID(ImportError(OciLayout().Tar({})), "index.json in the archive lists no image");
}

TEST_F(ArchiveImportErrorsTest, ALayerThatDoesNotUnpackToItsDiffId) {
  const TestImage image = MakeImage({"real", "other"});
  TestImage wrong = image;
  std::swap(wrong.layers[0], wrong.layers[1]);  // the config still lists the original order
  EXPECT_INVALID(ImportError(WithManifest(wrong, Manifest({"1/layer.tar", "2/layer.tar"}).dump())),
                 "layer " + image.diff_ids[1].str() + " unpacks to " + image.diff_ids[1].str() +
                     " but the config expects " + image.diff_ids[0].str());
  // A gzip layer is checked by what it unpacks to.
  OciLayout oci;
  Json named = Annotated(oci.AddImage(wrong, true), {{"io.containerd.image.name", "x:1"}});
  const std::string gz = Digest::Of(GzipLayers(wrong)[0]).str();
  EXPECT_INVALID(ImportError(oci.Tar({named})),
                 "layer " + gz + " unpacks to " + image.diff_ids[1].str() +
                     " but the config expects " + image.diff_ids[0].str());
  EXPECT_INVALID(ImportError(WithManifest(image, Manifest({"1/layer.tar"}).dump())),
                 "has 1 layers but its config lists 2 diff_ids");
}

TEST_F(ArchiveImportErrorsTest, AnOciBlobThatDoesNotMatchItsName) {
  const TestImage image = MakeImage({"blob"});
  OciLayout oci;
  Json named = Annotated(oci.AddImage(image, false), {{"io.containerd.image.name", "x:1"}});
  oci.blobs[image.diff_ids[0].hex()] = TestLayer("tampered");
  EXPECT_INVALID(ImportError(oci.Tar({named})), "blobs/sha256/" + image.diff_ids[0].hex() +
                                                    " in the archive does not match its digest");
}

TEST_F(ArchiveImportErrorsTest, ASymlinkOutOfTheArchive) {
  const TestImage image = MakeImage({"link", "link2"});
  const std::string manifest = Manifest({"1/layer.tar", "2/layer.tar"}).dump();
  for (const std::string target : {"../../etc/passwd", "/etc/passwd", "../../2/layer.tar"}) {
    SCOPED_TRACE(target);
    std::string archive = TarWriter()
                              .File("1/layer.tar", image.layers[0])
                              .Symlink("2/layer.tar", target)
                              .File("config.json", image.config)
                              .File("manifest.json", manifest)
                              .Finish();
    EXPECT_INVALID(ImportError(archive),
                   "layer 2/layer.tar is a symlink that leads out of the archive");
  }
  // Through another link, and a hard link out.
  std::string chained = TarWriter()
                            .File("1/layer.tar", image.layers[0])
                            .Symlink("2/layer.tar", "../3/layer.tar")
                            .Hardlink("3/layer.tar", "../outside.tar")
                            .File("config.json", image.config)
                            .File("manifest.json", manifest)
                            .Finish();
  EXPECT_INVALID(ImportError(chained),
                 "layer 3/layer.tar is a symlink that leads out of the archive");
  // Links that stay inside are followed, hard links too.
  const TestImage twice = MakeImage({"same", "same"});
  std::string inside = TarWriter()
                           .File("1/layer.tar", twice.layers[0])
                           .Hardlink("2/layer.tar", "./1/layer.tar")
                           .File("config.json", twice.config)
                           .File("manifest.json", manifest)
                           .Finish();
  auto records = Import(inside);
  ASSERT_TRUE(records.has_value()) << records.error().message;
  EXPECT_EQ(records->at(0).size, twice.size);
}

TEST_F(ArchiveImportErrorsTest, AnImageWithoutAName) {
  const TestImage image = MakeImage({"anon"});
  const std::string anonymous = DockerLegacyArchive(image, nullptr);
  EXPECT_INVALID(ImportError(anonymous), "image " + image.config_digest.hex() +
                                             ".json in the archive has no name: import it with "
                                             "?tag=NAME:TAG");
  EXPECT_INVALID(ImportError(DockerLegacyArchive(image, Json::array())), "has no name");
  // By digest only is no name to list it under.
  EXPECT_INVALID(
      ImportError(DockerLegacyArchive(image, {"busybox@sha256:" + std::string(64, 'a')})),
      "has no name");
  EXPECT_INVALID(ImportError(DockerLegacyArchive(image, {"Bad Name:1"})), "is named Bad Name:1: ");
  OciLayout oci;
  Json tag_only =
      Annotated(oci.AddImage(image, false), {{"org.opencontainers.image.ref.name", "v1"}});
  EXPECT_INVALID(ImportError(oci.Tar({tag_only})),
                 "image " + tag_only["digest"].get<std::string>() + " in the archive has no name");
  EXPECT_INVALID(ImportError(oci.Tar({oci.AddImage(image, false)})), "has no name");
  // The untagged name names them.
  ArchiveImportOptions options;
  options.untagged_name = *reference::Parse("mine:now");
  auto records = Import(anonymous, 0, options);
  ASSERT_TRUE(records.has_value()) << records.error().message;
  EXPECT_EQ(records->at(0).name, "docker.io/library/mine");
  EXPECT_EQ(records->at(0).tag, "now");
}

TEST_F(ArchiveImportErrorsTest, CancelledWhileAnUploadIsOpen) {
  const TestImage image = MakeImage({"cancel"});
  const std::string archive = DockerLegacyArchive(image, {"c:1"});
  std::atomic<bool> cancelled{false};
  {
    ArchiveImport import(*store_, pins_, {.cancelled = &cancelled});
    const size_t in_layer = archive.find("cancel0,") + 10;
    ASSERT_TRUE(import.Feed(archive.substr(0, in_layer)).has_value());
    EXPECT_EQ(Uploads(*store_).size(), 1u) << "the layer is being uploaded";
    cancelled = true;
    auto fed = import.Feed(archive.substr(in_layer));
    ASSERT_FALSE(fed.has_value());
    EXPECT_EQ(fed.error().code, Code::kCancelled);
    EXPECT_EQ(fed.error().message, "import cancelled");
  }
  EXPECT_EQ(Uploads(*store_), std::vector<std::string>{});
  EXPECT_EQ(Pinned(), std::set<std::string>{});
}

TEST_F(ArchiveImportErrorsTest, ADecompressedSizeOverMaxBytes) {
  const TestImage image = MakeImage({"big"});
  const std::string archive = DockerLegacyArchive(image, {"big:1"});
  ArchiveImportOptions options{.max_bytes = archive.size() - 1};
  const std::string want = "decompressed archive over " + std::to_string(archive.size() - 1);
  EXPECT_INVALID(ImportError(archive, options), want);
  EXPECT_INVALID(ImportError(content::Gzip(archive, 9), options), want);
  // A bomb: a small gzip stream of a huge archive stops at the limit.
  const std::string zeros = content::Gzip(std::string(64 << 20, '\0'), 9);
  EXPECT_INVALID(ImportError(zeros, {.max_bytes = 1 << 20}), "decompressed archive over 1048576");
  options.max_bytes = archive.size();
  EXPECT_TRUE(Import(archive, 0, options).has_value());
}

TEST_F(ArchiveImportErrorsTest, FinishedImportsLeaveOnlyCommittedBlobs) {
  const TestImage image = MakeImage({"left"});
  const std::string archive = DockerLegacyArchive(image, {"left:1"});
  {
    ArchiveImport import(*store_, pins_, {});
    ASSERT_TRUE(import.Feed(archive).has_value());
    auto records = import.Finish();
    ASSERT_TRUE(records.has_value()) << records.error().message;
    // Until the import is gone its blobs are pinned against the collector.
    auto pinned = Pinned();
    for (const auto& blob : records->at(0).blobs) EXPECT_TRUE(pinned.contains(blob)) << blob;
  }
  EXPECT_EQ(Uploads(*store_), std::vector<std::string>{});
  EXPECT_EQ(Pinned(), std::set<std::string>{});
}

}  // namespace
}  // namespace wharf::service
