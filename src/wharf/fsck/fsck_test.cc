// fsck against a real content store and SQLite database built in a temporary directory, as
// wharfd would leave them, then damaged one way at a time.
#include "wharf/fsck/fsck.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wharf/base/clock.h"
#include "wharf/base/file_util.h"
#include "wharf/content/blob_store.h"
#include "wharf/fsck/data_dir_lock.h"
#include "wharf/metadata/database.h"
#include "wharf/metadata/image_store.h"
#include "wharf/metadata/job_store.h"
#include "wharf/oci/image.h"

namespace wharf::fsck {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Json = nlohmann::json;

class FsckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = fs::temp_directory_path() / ("wharf-fsck-" + RandomHex(6));
    auto store = content::BlobStore::Open(data_);
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
    auto db = metadata::Database::Open(data_ / "wharf.db");
    ASSERT_TRUE(db) << db.error().ToString();
    db_ = std::move(*db);
    images_ = std::make_unique<metadata::ImageStore>(*db_);
    jobs_ = std::make_unique<metadata::JobStore>(*db_);
  }
  void TearDown() override { fs::remove_all(data_); }

  Digest PutBlob(const std::string& bytes) {
    Digest d = Digest::Of(bytes);
    EXPECT_TRUE(store_->Put(d, bytes));
    return d;
  }

  // A Docker image of `layers` (opaque bytes: fsck does not unpack layers), stored and
  // recorded as a pull would: blobs, image row with its edges, index.json.
  metadata::ImageRecord AddDockerImage(const std::string& name, const std::string& tag,
                                       const std::vector<std::string>& layers) {
    Json diff_ids = Json::array();
    Json layer_descriptors = Json::array();
    std::vector<std::string> blobs;
    for (const std::string& layer : layers) {
      Digest d = PutBlob(layer);
      diff_ids.push_back(Digest::Of("diff" + layer).str());
      layer_descriptors.push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                                   {"digest", d.str()},
                                   {"size", layer.size()}});
      blobs.push_back(d.str());
    }
    std::string config = Json{{"architecture", "amd64"},
                              {"os", "linux"},
                              {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}}
                             .dump();
    Digest config_digest = PutBlob(config);
    std::string manifest = Json{
        {"schemaVersion", 2},
        {"mediaType", oci::kOciManifest},
        {"config",
         {{"mediaType", oci::kOciConfig},
          {"digest", config_digest.str()},
          {"size", config.size()}}},
        {"layers",
         layer_descriptors}}.dump();
    Digest manifest_digest = PutBlob(manifest);
    blobs.insert(blobs.begin(), {manifest_digest.str(), config_digest.str()});

    metadata::ImageRecord image;
    image.type = "docker";
    image.name = "docker.io/" + name;
    image.tag = tag;
    image.display_name = name;
    image.manifest_digest = manifest_digest.str();
    image.manifest_media_type = std::string(oci::kOciManifest);
    image.manifest_size = static_cast<int64_t>(manifest.size());
    image.config_digest = config_digest.str();
    image.architecture = "amd64";
    image.os = "linux";
    image.description = "about " + name;
    image.blobs = blobs;
    EXPECT_TRUE(images_->Put(image));
    WriteIndex();
    return image;
  }

  metadata::ImageRecord AddLxcImage(const std::string& name, const std::string& rootfs) {
    metadata::ImageRecord image;
    image.type = "lxc";
    image.name = name;
    image.tag = "20240101_05:24";
    image.display_name = name;
    image.blobs = {PutBlob(rootfs).str()};
    EXPECT_TRUE(images_->Put(image));
    return image;
  }

  void WriteIndex() {
    auto images = images_->List();
    ASSERT_TRUE(images);
    std::vector<content::BlobStore::IndexEntry> entries;
    for (const auto& image : *images) {
      if (image.type != "docker") continue;
      entries.push_back({*Digest::Parse(image.manifest_digest), image.manifest_media_type,
                         image.manifest_size, image.display_name + ":" + image.tag,
                         image.name + ":" + image.tag});
    }
    ASSERT_TRUE(store_->WriteIndex(entries));
  }

  fs::path BlobFile(const std::string& digest) { return store_->BlobPath(*Digest::Parse(digest)); }

  void WriteFile(const fs::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
  }

  Report RunFsck(bool repair) {
    auto report = fsck::Run({data_, repair, &clock_});
    EXPECT_TRUE(report) << report.error().ToString();
    return report ? *report : Report{};
  }

  // "kind object" of every problem, for compact expectations.
  static std::vector<std::string> Kinds(const Report& r) {
    std::vector<std::string> out;
    for (const auto& p : r.problems) out.push_back(p.kind + " " + p.object);
    return out;
  }

  FakeClock clock_;  // stamps the failed jobs repair records
  fs::path data_;
  std::unique_ptr<content::BlobStore> store_;
  std::unique_ptr<metadata::Database> db_;  // before the stores: they go first
  std::unique_ptr<metadata::ImageStore> images_;
  std::unique_ptr<metadata::JobStore> jobs_;
};

TEST_F(FsckTest, AWholeStoreIsClean) {
  AddDockerImage("lgsd/diamond", "latest", {"layer one", "layer two"});
  AddDockerImage("team/base", "1.0", {"layer one"});  // shares a layer
  AddLxcImage("debian-bookworm", "rootfs bytes");
  Report r = RunFsck(false);
  EXPECT_THAT(Kinds(r), ::testing::IsEmpty());
  EXPECT_EQ(r.images, 3);
  EXPECT_EQ(r.blobs, 7);  // 2 manifests, 2 configs, 2 distinct layers, 1 rootfs
  EXPECT_EQ(ExitCode(r), 0);
  EXPECT_THAT(FormatSummary(r), HasSubstr("no problems"));
}

TEST_F(FsckTest, ACorruptLayerBreaksItsImageAndRepairMarksTheDownloadFailed) {
  auto broken = AddDockerImage("lgsd/diamond", "latest", {"layer one", "layer two"});
  AddDockerImage("team/base", "1.0", {"layer one"});
  const std::string layer = broken.blobs[3];  // "layer two"
  WriteFile(BlobFile(layer), "layer twO");

  Report r = RunFsck(false);
  EXPECT_THAT(Kinds(r), ::testing::ElementsAre("corrupt-blob " + layer,
                                               "broken-image docker:lgsd/diamond:latest"));
  EXPECT_THAT(r.problems[0].detail, HasSubstr("hashes to sha256:"));
  EXPECT_THAT(r.problems[1].detail, HasSubstr(layer + " is corrupt"));
  EXPECT_EQ(ExitCode(r), 1);
  EXPECT_TRUE(fs::exists(BlobFile(layer)));  // a check changes nothing

  Report repaired = RunFsck(true);
  EXPECT_EQ(repaired.Unrepaired(), 0);
  EXPECT_EQ(ExitCode(repaired), 0);
  EXPECT_FALSE(fs::exists(BlobFile(layer)));
  // Its other blobs (manifest, config) go; "layer one" stays for team/base.
  EXPECT_FALSE(fs::exists(BlobFile(broken.blobs[0])));
  EXPECT_TRUE(fs::exists(BlobFile(broken.blobs[2])));
  auto images = images_->List();
  ASSERT_TRUE(images);
  ASSERT_EQ(images->size(), 1u);
  EXPECT_EQ((*images)[0].display_name, "team/base");
  auto jobs = jobs_->List();
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].name, "docker.io/lgsd/diamond");
  EXPECT_EQ((*jobs)[0].tag, "latest");
  EXPECT_EQ((*jobs)[0].state, "failed");
  EXPECT_EQ((*jobs)[0].description, "about lgsd/diamond");
  EXPECT_THAT((*jobs)[0].error, HasSubstr("fsck: blob " + layer + " is corrupt"));
  EXPECT_EQ((*jobs)[0].finished_at, clock_.NowSeconds());
  auto index = ReadFile(data_ / "index.json");
  ASSERT_TRUE(index);
  EXPECT_THAT(*index, HasSubstr("team/base:1.0"));
  EXPECT_THAT(*index, ::testing::Not(HasSubstr("lgsd/diamond")));

  EXPECT_THAT(Kinds(RunFsck(false)), ::testing::IsEmpty());
}

TEST_F(FsckTest, AMissingLayerIsADanglingEdge) {
  auto image = AddDockerImage("lgsd/diamond", "latest", {"layer one"});
  fs::remove(BlobFile(image.blobs[2]));
  Report r = RunFsck(false);
  EXPECT_THAT(Kinds(r), ::testing::ElementsAre("dangling-edge docker:lgsd/diamond:latest"));
  EXPECT_THAT(r.problems[0].detail, HasSubstr(image.blobs[2] + " is missing"));
  Report repaired = RunFsck(true);
  EXPECT_EQ(ExitCode(repaired), 0);
  auto jobs = jobs_->List();
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_THAT((*jobs)[0].error, HasSubstr("is missing from the store"));
  EXPECT_THAT(Kinds(RunFsck(false)), ::testing::IsEmpty());
}

TEST_F(FsckTest, AnLxcImageNeedsOnlyItsBlobs) {
  auto image = AddLxcImage("debian-bookworm", "rootfs");
  EXPECT_THAT(Kinds(RunFsck(false)), ::testing::IsEmpty());
  fs::remove(BlobFile(image.blobs[0]));
  EXPECT_THAT(Kinds(RunFsck(false)),
              ::testing::ElementsAre("dangling-edge lxc:debian-bookworm:20240101_05:24"));
}

TEST_F(FsckTest, AConfigWhoseDiffIdsDoNotMatchTheLayersBreaksTheImage) {
  auto image = AddDockerImage("lgsd/diamond", "latest", {"layer one", "layer two"});
  // Re-record the image with a config of one diff_id (stored under its own digest).
  std::string config = Json{{"architecture", "amd64"},
                            {"os", "linux"},
                            {"rootfs", {{"type", "layers"}, {"diff_ids", {Digest::Of("x").str()}}}}}
                           .dump();
  Digest config_digest = PutBlob(config);
  auto manifest = Json::parse(*store_->Read(*Digest::Parse(image.manifest_digest)));
  manifest["config"]["digest"] = config_digest.str();
  manifest["config"]["size"] = config.size();
  Digest manifest_digest = PutBlob(manifest.dump());
  ASSERT_TRUE(images_->Delete("docker", image.name, image.tag));
  image.manifest_digest = manifest_digest.str();
  image.manifest_size = static_cast<int64_t>(manifest.dump().size());
  image.config_digest = config_digest.str();
  std::vector<std::string> old = {image.blobs[0], image.blobs[1]};
  image.blobs[0] = manifest_digest.str();
  image.blobs[1] = config_digest.str();
  ASSERT_TRUE(images_->Put(image));
  for (const auto& d : old) ASSERT_TRUE(store_->Delete(*Digest::Parse(d)));
  WriteIndex();

  Report r = RunFsck(false);
  ASSERT_THAT(Kinds(r), ::testing::ElementsAre("broken-image docker:lgsd/diamond:latest"));
  EXPECT_EQ(r.problems[0].detail, "config has 1 diff_ids for 2 layers");
}

TEST_F(FsckTest, AManifestThatDoesNotParseOrNamesOtherBlobsBreaksTheImage) {
  auto image = AddDockerImage("lgsd/diamond", "latest", {"layer one"});
  // An edge to a blob the manifest does not name.
  image.blobs.push_back(PutBlob("stray layer").str());
  ASSERT_TRUE(images_->Put(image));
  Report r = RunFsck(false);
  ASSERT_THAT(Kinds(r), ::testing::ElementsAre("broken-image docker:lgsd/diamond:latest"));
  EXPECT_THAT(r.problems[0].detail, HasSubstr("is not named by the manifest"));

  // A manifest blob that is valid content for its digest but not a manifest.
  Digest not_manifest = PutBlob("[1, 2, 3]");
  image.blobs[0] = image.manifest_digest = not_manifest.str();
  image.manifest_size = 9;
  image.blobs.pop_back();
  ASSERT_TRUE(images_->Put(image));
  r = RunFsck(false);
  EXPECT_THAT(Kinds(r), ::testing::Contains("broken-image docker:lgsd/diamond:latest"));
  EXPECT_THAT(r.problems[0].detail, HasSubstr("manifest does not parse"));
}

TEST_F(FsckTest, OrphansAndLeftoversAreFoundAndRemoved) {
  AddDockerImage("lgsd/diamond", "latest", {"layer one"});
  Digest orphan = PutBlob("nobody needs me");
  const std::string partial_hex = Digest::Of("half a blob").hex();
  WriteFile(data_ / "ingest" / (partial_hex + ".partial"), "half a");
  WriteFile(data_ / ("index.json" + std::string(kTempMarker) + "0123456789abcdef"), "{");
  WriteFile(data_ / "blobs" / "sha256" / "README", "not a blob");

  Report r = RunFsck(false);
  EXPECT_THAT(Kinds(r), ::testing::UnorderedElementsAre(
                            "orphan-blob " + orphan.str(), "stray-file blobs/sha256/README",
                            "orphan-partial ingest/" + partial_hex + ".partial",
                            "temp-file index.json.tmp-0123456789abcdef"));
  EXPECT_EQ(ExitCode(r), 1);
  for (const auto& p : r.problems) {
    EXPECT_THAT(FormatProblem(p), ::testing::StartsWith(p.kind + " " + p.object + ": "));
  }

  Report repaired = RunFsck(true);
  EXPECT_EQ(repaired.Unrepaired(), 0);
  for (const auto& p : repaired.problems) {
    EXPECT_THAT(FormatProblem(p), HasSubstr("[repaired: removed]"));
  }
  EXPECT_FALSE(store_->Has(orphan));
  EXPECT_FALSE(fs::exists(data_ / "ingest" / (partial_hex + ".partial")));
  EXPECT_FALSE(fs::exists(data_ / "blobs" / "sha256" / "README"));
  EXPECT_EQ(images_->List()->size(), 1u);  // the whole image is untouched
  EXPECT_THAT(Kinds(RunFsck(false)), ::testing::IsEmpty());
}

TEST_F(FsckTest, UnreferencedWorkOfAnUnfinishedDownloadIsKept) {
  metadata::JobRecord job;
  job.type = "docker";
  job.name = "docker.io/lgsd/diamond";
  job.tag = "latest";
  job.state = "downloading";
  ASSERT_TRUE(jobs_->Add(job));
  Digest layer = PutBlob("a layer fetched before the crash");
  WriteFile(data_ / "ingest" / (Digest::Of("next").hex() + ".partial"), "ne");

  Report r = RunFsck(true);
  EXPECT_THAT(Kinds(r), ::testing::IsEmpty());
  EXPECT_EQ(r.kept_for_jobs, 2);
  EXPECT_EQ(r.unfinished_jobs, 1);
  EXPECT_THAT(FormatSummary(r), HasSubstr("kept for 1 unfinished downloads"));
  EXPECT_TRUE(store_->Has(layer));
}

TEST_F(FsckTest, AnExistingFailedJobIsUpdatedNotDuplicated) {
  auto image = AddDockerImage("lgsd/diamond", "latest", {"layer one"});
  metadata::JobRecord job;
  job.type = "docker";
  job.name = image.name;
  job.tag = image.tag;
  job.state = "failed";
  job.error = "an older failure";
  ASSERT_TRUE(jobs_->Add(job));
  fs::remove(BlobFile(image.blobs[1]));
  EXPECT_EQ(ExitCode(RunFsck(true)), 0);
  auto jobs = jobs_->List();
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_THAT((*jobs)[0].error, HasSubstr("fsck: blob " + image.blobs[1]));
}

TEST_F(FsckTest, AStaleIndexIsRewritten) {
  AddDockerImage("lgsd/diamond", "latest", {"layer one"});
  ASSERT_TRUE(store_->WriteIndex({}));
  Report r = RunFsck(false);
  EXPECT_THAT(Kinds(r), ::testing::ElementsAre("stale-index index.json"));
  EXPECT_EQ(ExitCode(RunFsck(true)), 0);
  EXPECT_THAT(*ReadFile(data_ / "index.json"), HasSubstr("lgsd/diamond:latest"));
  EXPECT_THAT(Kinds(RunFsck(false)), ::testing::IsEmpty());
}

TEST_F(FsckTest, RefusesADataDirectoryInUse) {
  auto lock = DataDirLock::Acquire(data_);
  ASSERT_TRUE(lock) << lock.error().ToString();
  auto r = fsck::Run({data_, false});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kConflict);
  EXPECT_THAT(r.error().message, HasSubstr("in use by another wharfd (pid "));
  lock->reset();
  EXPECT_TRUE(fsck::Run({data_, false}));
}

TEST_F(FsckTest, RefusesADirectoryThatIsNotWharfs) {
  auto r = fsck::Run({data_ / "nope", false});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kInvalidArgument);
  r = fsck::Run({data_ / "blobs", false});
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("not a wharf data directory"));
}

}  // namespace
}  // namespace wharf::fsck
