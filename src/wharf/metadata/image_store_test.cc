#include "wharf/metadata/image_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "wharf/metadata/metadata_test_util.h"

namespace wharf::metadata {
namespace {

class ImageStoreTest : public MetadataTest {
 protected:
  void SetUp() override {
    MetadataTest::SetUp();
    ASSERT_TRUE(Open());
  }

  // Makes every image_blobs insert of `digest` fail, from another connection.
  void PoisonBlob(const std::string& digest) {
    RawQuery(path_, "CREATE TRIGGER poison BEFORE INSERT ON image_blobs WHEN new.digest = '" +
                        digest + "' BEGIN SELECT RAISE(ABORT, 'poisoned blob'); END");
  }
};

TEST_F(ImageStoreTest, RoundTripDeduplicatesAndSortsBlobs) {
  ImageRecord image = MakeImage("ubuntu", "22.04", {"sha256:c", "sha256:a", "sha256:c"});
  ASSERT_TRUE(images_->Put(image));

  auto got = images_->Get(image.type, image.name, image.tag);
  ASSERT_TRUE(got) << got.error().ToString();
  ASSERT_TRUE(got->has_value());
  image.blobs = {"sha256:a", "sha256:c"};
  EXPECT_EQ(Fields(**got), Fields(image));

  auto missing = images_->Get(image.type, image.name, "23.04");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  auto other_type = images_->Get("lxc", image.name, image.tag);
  ASSERT_TRUE(other_type);
  EXPECT_FALSE(other_type->has_value());
}

TEST_F(ImageStoreTest, EmptyTagIsRejected) {
  auto put = images_->Put(MakeImage("ubuntu", "", {}));
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, Code::kInvalidArgument);
  auto commit = images_->PutAndDeleteJob(MakeImage("ubuntu", "", {}), 1);
  ASSERT_FALSE(commit);
  EXPECT_EQ(commit.error().code, Code::kInvalidArgument);
  auto get = images_->Get("docker", "docker.io/library/ubuntu", "");
  ASSERT_FALSE(get);
  EXPECT_EQ(get.error().code, Code::kInvalidArgument);
}

TEST_F(ImageStoreTest, PutReplacesRowAndEdgesKeepingId) {
  ImageRecord image = MakeImage("redis", "7", {"sha256:x", "sha256:y"});
  ASSERT_TRUE(images_->Put(image));
  const std::string id = RawQuery(path_, "SELECT id FROM images");

  image.description = "replaced";
  image.size = 42;
  image.blobs = {"sha256:z", "sha256:y"};
  ASSERT_TRUE(images_->Put(image));

  auto images = images_->List();
  ASSERT_TRUE(images) << images.error().ToString();
  ASSERT_EQ(images->size(), 1u);
  EXPECT_EQ((*images)[0].description, "replaced");
  EXPECT_EQ((*images)[0].size, 42);
  EXPECT_EQ((*images)[0].blobs, (std::vector<std::string>{"sha256:y", "sha256:z"}));
  EXPECT_EQ(RawQuery(path_, "SELECT id FROM images"), id);
  EXPECT_EQ(RawQuery(path_, "SELECT count(*) FROM image_blobs"), "2");
}

// A download again without a description or icon (as `wharf pull` asks) keeps the stored
// ones; one that carries them replaces them.
TEST_F(ImageStoreTest, PutWithoutDescriptionOrIconKeepsTheStoredOnes) {
  ImageRecord image = MakeImage("lgsd/diamond", "latest", {"sha256:x"});
  image.description = "from the catalog";
  image.icon = "https://example.com/icon.png";
  ASSERT_TRUE(images_->Put(image));
  image.description.clear();
  image.icon.clear();
  image.size = 7;
  ASSERT_TRUE(images_->Put(image));
  auto got = images_->Get(image.type, image.name, image.tag);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->description, "from the catalog");
  EXPECT_EQ((*got)->icon, "https://example.com/icon.png");
  EXPECT_EQ((*got)->size, 7);
  image.description = "new";
  image.icon = "https://example.com/other.png";
  ASSERT_TRUE(images_->Put(image));
  got = images_->Get(image.type, image.name, image.tag);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->description, "new");
  EXPECT_EQ((*got)->icon, "https://example.com/other.png");
}

TEST_F(ImageStoreTest, FailedPutRollsBackAndStoreStaysUsable) {
  ImageRecord image = MakeImage("nginx", "1", {"sha256:old"});
  ASSERT_TRUE(images_->Put(image));
  // Make the second edge insert fail, after the row update and the first edge already ran.
  PoisonBlob("sha256:poison");

  ImageRecord replacement = image;
  replacement.description = "never stored";
  replacement.blobs = {"sha256:new", "sha256:poison"};
  auto put = images_->Put(replacement);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, Code::kInternal);
  EXPECT_NE(put.error().message.find("metadata ImageStore::Put: "), std::string::npos)
      << put.error().message;
  EXPECT_NE(put.error().message.find("poisoned blob"), std::string::npos) << put.error().message;

  // The failed transaction released the write lock at once: another connection can write
  // (with a leaked transaction this would time out as "database is locked").
  RawQuery(path_, "DROP TRIGGER poison");
  auto got = images_->Get(image.type, image.name, image.tag);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(Fields(**got), Fields(image));
  // And the store's own next write works.
  ASSERT_TRUE(images_->Put(MakeImage("nginx", "2", {"sha256:new"})));
  auto images = images_->List();
  ASSERT_TRUE(images);
  EXPECT_EQ(images->size(), 2u);
}

TEST_F(ImageStoreTest, PutAndDeleteJobCommitsBothOrNeither) {
  auto job_id = jobs_->Add(MakeJob("nginx"));
  ASSERT_TRUE(job_id);
  PoisonBlob("sha256:poison");
  auto failed = images_->PutAndDeleteJob(MakeImage("nginx", "1", {"sha256:poison"}), *job_id);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Code::kInternal);
  EXPECT_TRUE(images_->List()->empty());
  EXPECT_EQ(jobs_->List()->size(), 1u);  // the job stays, to run again

  RawQuery(path_, "DROP TRIGGER poison");
  ASSERT_TRUE(images_->PutAndDeleteJob(MakeImage("nginx", "1", {"sha256:l"}), *job_id));
  EXPECT_EQ(images_->List()->size(), 1u);
  EXPECT_TRUE(jobs_->List()->empty());
  // A job already gone is no error.
  ASSERT_TRUE(images_->PutAndDeleteJob(MakeImage("nginx", "2", {"sha256:l"}), *job_id));
  EXPECT_EQ(images_->List()->size(), 2u);
}

TEST_F(ImageStoreTest, DeleteAndPutJobAddsOrUpdatesInTheSameTransaction) {
  ASSERT_TRUE(images_->Put(MakeImage("x", "1", {"sha256:x1"})));
  ASSERT_TRUE(images_->Put(MakeImage("x", "2", {"sha256:x2"})));
  const std::string x = "docker.io/library/x";
  JobRecord job = MakeJob("x");
  job.state = "failed";

  auto added = images_->DeleteAndPutJob("docker", x, "1", job);
  ASSERT_TRUE(added) << added.error().ToString();
  EXPECT_EQ(TagsOf(*added), std::vector<std::string>{"x:1"});
  auto jobs = jobs_->List();
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].state, "failed");

  // An update of a job that is not there fails, and the image stays.
  JobRecord ghost = job;
  ghost.id = (*jobs)[0].id + 100;
  auto missing = images_->DeleteAndPutJob("docker", x, "2", ghost);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
  EXPECT_EQ(TagsOf(*images_->List()), std::vector<std::string>{"x:2"});

  JobRecord existing = (*jobs)[0];
  existing.error = "fsck: broken";
  auto updated = images_->DeleteAndPutJob("docker", x, "2", existing);
  ASSERT_TRUE(updated) << updated.error().ToString();
  EXPECT_EQ(TagsOf(*updated), std::vector<std::string>{"x:2"});
  EXPECT_TRUE(images_->List()->empty());
  jobs = jobs_->List();
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ(Fields((*jobs)[0]), Fields(existing));
}

TEST_F(ImageStoreTest, ListOrdersByDisplayNameThenTagBytewise) {
  for (const auto& [name, tag] : std::vector<std::pair<std::string, std::string>>{
           {"b", "1"}, {"a", "2"}, {"B", "1"}, {"a", "10"}, {"a", "1"}}) {
    ASSERT_TRUE(images_->Put(MakeImage(name, tag, {"sha256:" + name + tag})));
  }
  auto images = images_->List();
  ASSERT_TRUE(images) << images.error().ToString();
  EXPECT_EQ(TagsOf(*images), (std::vector<std::string>{"B:1", "a:1", "a:10", "a:2", "b:1"}));
  for (const auto& image : *images) {
    EXPECT_EQ(image.blobs, std::vector<std::string>{"sha256:" + image.display_name + image.tag});
  }
}

TEST_F(ImageStoreTest, DeleteOneTagOrAllTags) {
  for (const char* tag : {"1", "2", "3"}) {
    ASSERT_TRUE(images_->Put(MakeImage("x", tag, {std::string("sha256:x") + tag})));
  }
  ASSERT_TRUE(images_->Put(MakeImage("y", "1", {"sha256:y1"})));
  const std::string x = "docker.io/library/x";

  auto one = images_->Delete("docker", x, "2");
  ASSERT_TRUE(one) << one.error().ToString();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(Fields((*one)[0]), Fields(MakeImage("x", "2", {"sha256:x2"})));
  auto left = images_->List();
  ASSERT_TRUE(left);
  EXPECT_EQ(TagsOf(*left), (std::vector<std::string>{"x:1", "x:3", "y:1"}));

  auto wrong_type = images_->Delete("lxc", x, "");
  ASSERT_TRUE(wrong_type);
  EXPECT_TRUE(wrong_type->empty());

  auto all = images_->Delete("docker", x, "");
  ASSERT_TRUE(all) << all.error().ToString();
  EXPECT_EQ(TagsOf(*all), (std::vector<std::string>{"x:1", "x:3"}));
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].blobs, std::vector<std::string>{"sha256:x3"});
  left = images_->List();
  ASSERT_TRUE(left);
  EXPECT_EQ(TagsOf(*left), std::vector<std::string>{"y:1"});
  EXPECT_EQ(RawQuery(path_, "SELECT count(*) FROM image_blobs"), "1");

  auto again = images_->Delete("docker", x, "");
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty());
}

TEST_F(ImageStoreTest, SharedBlobStaysReferencedUntilLastImageIsGone) {
  ASSERT_TRUE(images_->Put(MakeImage("a", "1", {"sha256:shared", "sha256:a"})));
  ASSERT_TRUE(images_->Put(MakeImage("b", "1", {"sha256:shared", "sha256:b"})));
  using Set = std::set<std::string>;
  EXPECT_EQ(*images_->ReferencedBlobs(), (Set{"sha256:a", "sha256:b", "sha256:shared"}));

  ASSERT_TRUE(images_->Delete("docker", "docker.io/library/a", "1"));
  EXPECT_EQ(*images_->ReferencedBlobs(), (Set{"sha256:b", "sha256:shared"}));
  ASSERT_TRUE(images_->Delete("docker", "docker.io/library/b", ""));
  auto none = images_->ReferencedBlobs();
  ASSERT_TRUE(none) << none.error().ToString();
  EXPECT_TRUE(none->empty());
}

TEST_F(ImageStoreTest, ConcurrentPutFromEightThreads) {
  constexpr int kThreads = 8;
  constexpr int kImagesPerThread = 50;
  std::atomic<int> failures = 0;
  std::atomic<bool> writing = true;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kImagesPerThread; ++i) {
        std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (!images_->Put(MakeImage(name, "latest", {"sha256:shared", "sha256:" + name}))) {
          ++failures;
        }
      }
    });
  }
  // Reads interleave with the writes on the same connection.
  std::thread reader([&] {
    while (writing) {
      if (!images_->List()) ++failures;
    }
  });
  for (auto& writer : writers) writer.join();
  writing = false;
  reader.join();

  EXPECT_EQ(failures, 0);
  auto images = images_->List();
  ASSERT_TRUE(images) << images.error().ToString();
  EXPECT_EQ(images->size(), size_t{kThreads * kImagesPerThread});
  for (const auto& image : *images) ASSERT_EQ(image.blobs.size(), 2u) << image.display_name;
  auto blobs = images_->ReferencedBlobs();
  ASSERT_TRUE(blobs);
  EXPECT_EQ(blobs->size(), size_t{kThreads * kImagesPerThread + 1});
}

}  // namespace
}  // namespace wharf::metadata
