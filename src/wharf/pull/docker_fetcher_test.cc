// DockerFetcher through its public interface, against the registry tests' fake HTTP server
// (serving one small image) and a BlobStore in a temporary directory: a pull that commits,
// a layer whose bytes do not match its digest, layers already in the store, and the memo
// of layer digests.
#include "wharf/pull/docker_fetcher.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "wharf/base/digest.h"
#include "wharf/content/gzip_test_util.h"
#include "wharf/registry/test_registry.h"

namespace wharf::pull {
namespace {

namespace fs = std::filesystem;
using registry::testing::FakeHttpServer;
using registry::testing::FakeRequest;
using registry::testing::FakeResponse;

// One image, team/app:latest, of a gzip layer and a plain one, served at 127.0.0.1 by the
// fake server. Blobs can be made to arrive with other bytes than their digest's.
class FakeImageRegistry {
 public:
  FakeImageRegistry() {
    std::string unpacked0;
    for (int i = 0; i < 2000; ++i) unpacked0 += "file " + std::to_string(i) + " of layer 0\n";
    layers_ = {content::Gzip(unpacked0, 6), std::string(5000, 'x') + "layer 1"};
    nlohmann::json config = {
        {"architecture", "amd64"},
        {"os", "linux"},
        {"rootfs",
         {{"type", "layers"},
          {"diff_ids", {Digest::Of(unpacked0).str(), Digest::Of(layers_[1]).str()}}}}};
    config_ = config.dump();
    nlohmann::json manifest = {
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
        {"config", Descriptor("application/vnd.oci.image.config.v1+json", config_)},
        {"layers",
         {Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layers_[0]),
          Descriptor("application/vnd.oci.image.layer.v1.tar", layers_[1])}}};
    manifest_ = manifest.dump();
    unpacked_size_ = static_cast<int64_t>(unpacked0.size() + layers_[1].size());
    for (const std::string* blob : {&config_, &layers_[0], &layers_[1]}) {
      served_[Digest::Of(*blob).str()] = *blob;
    }
  }

  std::string host() const { return server_.host(); }
  const std::string& manifest() const { return manifest_; }
  const std::string& config() const { return config_; }
  const std::string& layer(size_t i) const { return layers_[i]; }
  Digest layer_digest(size_t i) const { return Digest::Of(layers_[i]); }
  int64_t unpacked_size() const { return unpacked_size_; }
  // Bytes of config and layers: what a pull's progress counts.
  int64_t pulled_size() const {
    return static_cast<int64_t>(config_.size() + layers_[0].size() + layers_[1].size());
  }

  // From now on, blob `digest` is answered with `bytes`.
  void Tamper(const Digest& digest, std::string bytes) {
    std::lock_guard lock(mu_);
    served_[digest.str()] = std::move(bytes);
  }
  // GET requests for blob `digest` so far.
  int BlobRequests(const Digest& digest) const {
    return server_.CountRequests("/v2/team/app/blobs/" + digest.str());
  }
  int AllBlobRequests() const { return server_.CountRequests("/v2/team/app/blobs/"); }

 private:
  static nlohmann::json Descriptor(const std::string& media_type, const std::string& blob) {
    return {{"mediaType", media_type},
            {"digest", Digest::Of(blob).str()},
            {"size", static_cast<int64_t>(blob.size())}};
  }

  FakeResponse Serve(const FakeRequest& request) {
    const std::string& t = request.target;
    const std::string manifests = "/v2/team/app/manifests/";
    const std::string blobs = "/v2/team/app/blobs/";
    if (t == "/v2/") return {200, {{"Content-Type", "application/json"}}, "{}"};
    if (t == manifests + "latest" || t == manifests + Digest::Of(manifest_).str()) {
      return {200,
              {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"},
               {"Docker-Content-Digest", Digest::Of(manifest_).str()}},
              manifest_};
    }
    if (t.starts_with(blobs)) {
      std::lock_guard lock(mu_);
      auto it = served_.find(t.substr(blobs.size()));
      if (it != served_.end())
        return {200, {{"Content-Type", "application/octet-stream"}}, it->second};
    }
    return {404,
            {{"Content-Type", "application/json"}},
            R"({"errors":[{"code":"NAME_UNKNOWN","message":"no route"}]})"};
  }

  std::string config_;
  std::vector<std::string> layers_;
  std::string manifest_;
  int64_t unpacked_size_ = 0;
  mutable std::mutex mu_;
  std::map<std::string, std::string> served_;                                 // by digest
  FakeHttpServer server_{[this](const FakeRequest& r) { return Serve(r); }};  // last
};

class DockerFetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = content::BlobStore::Open(dir_.path() / "store");
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
    // One layer at a time, so what a failure leaves does not depend on timing.
    fetcher_ = std::make_unique<DockerFetcher>(
        DockerFetcherOptions{.platform = {"linux", "amd64", ""}, .layer_parallelism = 1}, *store_,
        client_, pins_);
  }

  // Fetches team/app:latest; the image it committed, if any, goes to `committed_`.
  Result<void> Fetch() {
    metadata::JobRecord job;
    job.type = "docker";
    job.name = registry_.host() + "/team/app";
    job.display_name = job.name;
    job.tag = "latest";
    CommitFn commit = [&](metadata::ImageRecord& image) -> Result<void> {
      pins_.Collect([&](const std::set<std::string>& pinned) { pinned_at_commit_ = pinned; });
      committed_ = image;
      names_pending_at_commit_ = store_->NamesPendingSync();
      return {};
    };
    return fetcher_->Fetch(job, progress_, commit);
  }

  std::set<std::string> Pinned() {
    std::set<std::string> out;
    pins_.Collect([&](const std::set<std::string>& pinned) { out = pinned; });
    return out;
  }
  std::set<std::string> StoredBlobs() const {
    std::set<std::string> out;
    for (const auto& d : store_->List()) out.insert(d.str());
    return out;
  }
  std::vector<fs::path> Partials() const {
    std::vector<fs::path> out;
    for (const auto& entry : fs::directory_iterator(store_->root() / "ingest")) {
      out.push_back(entry.path());
    }
    return out;
  }

  FakeImageRegistry registry_;
  registry::testing::TempDir dir_;
  std::unique_ptr<content::BlobStore> store_;
  registry::Client client_{registry::Options{.request_tries = 2, .backoff_ms = 10}};
  BlobPins pins_;
  std::unique_ptr<DockerFetcher> fetcher_;
  JobProgress progress_;
  std::optional<metadata::ImageRecord> committed_;
  std::set<std::string> pinned_at_commit_;
  uint64_t names_pending_at_commit_ = 1;  // blob names not yet fsynced when the record was made
};

TEST_F(DockerFetcherTest, PullsASmallImageAndCommitsIt) {
  auto fetched = Fetch();
  ASSERT_TRUE(fetched.has_value()) << fetched.error().ToString();
  ASSERT_TRUE(committed_.has_value());
  const std::string manifest = Digest::Of(registry_.manifest()).str();
  const std::string config = Digest::Of(registry_.config()).str();
  const std::string layer0 = registry_.layer_digest(0).str();
  const std::string layer1 = registry_.layer_digest(1).str();
  EXPECT_EQ(committed_->manifest_digest, manifest);
  EXPECT_EQ(committed_->manifest_media_type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(committed_->manifest_size, static_cast<int64_t>(registry_.manifest().size()));
  EXPECT_EQ(committed_->config_digest, config);
  EXPECT_EQ(committed_->architecture, "amd64");
  EXPECT_EQ(committed_->os, "linux");
  EXPECT_EQ(committed_->size, registry_.unpacked_size());
  const std::set<std::string> all = {manifest, config, layer0, layer1};
  EXPECT_EQ(std::set<std::string>(committed_->blobs.begin(), committed_->blobs.end()), all);
  EXPECT_EQ(nlohmann::json::parse(committed_->extra).value("repo_digest", ""), manifest);

  // Every blob is in the store, verified, before the commit, which runs while they are pinned.
  EXPECT_EQ(StoredBlobs(), all);
  EXPECT_EQ(*store_->Read(registry_.layer_digest(0)), registry_.layer(0));
  EXPECT_EQ(*store_->Read(Digest::Of(registry_.manifest())), registry_.manifest());
  EXPECT_TRUE(Partials().empty());
  EXPECT_EQ(pinned_at_commit_, all);
  // The blobs' names were placed without a directory fsync each, and made durable by one
  // before the record was written.
  EXPECT_EQ(names_pending_at_commit_, 0u);
  EXPECT_TRUE(Pinned().empty());
  EXPECT_EQ(progress_.bytes_total.load(), registry_.pulled_size());
  EXPECT_EQ(progress_.bytes_done.load(), registry_.pulled_size());
  auto layers = progress_.Layers();
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[1].digest, layer1);
  EXPECT_EQ(layers[1].bytes_done, static_cast<int64_t>(registry_.layer(1).size()));
  EXPECT_EQ(registry_.BlobRequests(registry_.layer_digest(0)), 1);
}

TEST_F(DockerFetcherTest, ALayerNotMatchingItsDigestFailsAndLeavesNothing) {
  std::string tampered = registry_.layer(0);
  tampered[tampered.size() / 2] ^= 1;  // same size: only the digest tells
  registry_.Tamper(registry_.layer_digest(0), tampered);

  auto fetched = Fetch();
  ASSERT_FALSE(fetched.has_value());
  EXPECT_EQ(fetched.error().code, Code::kDataLoss) << fetched.error().ToString();
  EXPECT_NE(fetched.error().message.find(registry_.layer_digest(0).hex()), std::string::npos)
      << fetched.error().message;
  EXPECT_FALSE(committed_.has_value());
  EXPECT_FALSE(store_->Has(registry_.layer_digest(0)));
  EXPECT_FALSE(store_->Has(Digest::Of(registry_.manifest())));
  EXPECT_TRUE(Partials().empty());
  // At most the verified config is left, unpinned, for the collector.
  for (const auto& blob : StoredBlobs()) EXPECT_EQ(blob, Digest::Of(registry_.config()).str());
  EXPECT_TRUE(Pinned().empty());
}

// The config is fetched beside the layers; when it is what fails, its error is the job's (not
// the "stopped" of the layers it ended), and nothing is committed.
TEST_F(DockerFetcherTest, AConfigNotMatchingItsDigestFailsTheJobWithItsOwnError) {
  const Digest config = Digest::Of(registry_.config());
  registry_.Tamper(config, R"({"architecture":"amd64","os":"linux","rootfs":{}})");

  auto fetched = Fetch();
  ASSERT_FALSE(fetched.has_value());
  EXPECT_EQ(fetched.error().code, Code::kDataLoss) << fetched.error().ToString();
  EXPECT_NE(fetched.error().message.find(config.hex()), std::string::npos)
      << fetched.error().message;
  EXPECT_FALSE(committed_.has_value());
  EXPECT_FALSE(store_->Has(config));
  EXPECT_FALSE(store_->Has(Digest::Of(registry_.manifest())));
  EXPECT_TRUE(Pinned().empty());
}

TEST_F(DockerFetcherTest, BlobsAlreadyInTheStoreAreNotFetchedAgain) {
  ASSERT_TRUE(store_->Put(registry_.layer_digest(1), registry_.layer(1)).has_value());
  auto fetched = Fetch();
  ASSERT_TRUE(fetched.has_value()) << fetched.error().ToString();
  ASSERT_TRUE(committed_.has_value());
  EXPECT_EQ(committed_->size, registry_.unpacked_size());  // diff_id read back from the store
  EXPECT_EQ(registry_.BlobRequests(registry_.layer_digest(1)), 0);
  EXPECT_EQ(registry_.BlobRequests(registry_.layer_digest(0)), 1);
  EXPECT_EQ(progress_.bytes_done.load(), registry_.pulled_size());

  // Pulled again: everything is there, so no blob is asked for at all.
  int before = registry_.AllBlobRequests();
  committed_.reset();
  fetched = Fetch();
  ASSERT_TRUE(fetched.has_value()) << fetched.error().ToString();
  ASSERT_TRUE(committed_.has_value());
  EXPECT_EQ(registry_.AllBlobRequests(), before);
  EXPECT_EQ(committed_->size, registry_.unpacked_size());
  EXPECT_EQ(progress_.bytes_done.load(), registry_.pulled_size());
}

TEST(LayerDigestMemoTest, RemembersByBlobDigestUpToItsLimit) {
  LayerDigestMemo memo;
  const Digest a = Digest::Of("layer a");
  const Digest b = Digest::Of("layer b");
  EXPECT_FALSE(memo.Find(a).has_value());
  memo.Remember(a, {Digest::Of("tar a"), 100});
  memo.Remember(b, {Digest::Of("tar b"), 200});
  auto found = memo.Find(a);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->diff_id, Digest::Of("tar a"));
  EXPECT_EQ(found->uncompressed_size, 100);
  EXPECT_EQ(memo.Find(b)->uncompressed_size, 200);
  // Past its limit it starts over rather than growing.
  for (size_t i = 0; i < LayerDigestMemo::kLimit; ++i) {
    memo.Remember(Digest::Of("filler " + std::to_string(i)), {Digest::Of("t"), 1});
  }
  EXPECT_FALSE(memo.Find(a).has_value());
}

}  // namespace
}  // namespace wharf::pull
