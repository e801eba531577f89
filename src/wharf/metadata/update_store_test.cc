#include "wharf/metadata/update_store.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "wharf/metadata/metadata_test_util.h"

namespace wharf::metadata {
namespace {

using Key = std::tuple<std::string, std::string, std::string>;  // type, name, tag

// Every field set (error aside), derived from the key so that records differ everywhere.
UpdateRecord MakeUpdate(const std::string& type, const std::string& name, const std::string& tag) {
  const std::string key = type + "/" + name + ":" + tag;
  UpdateRecord record{type, name, tag, "sha256:local-" + key, "sha256:remote-" + key};
  record.update_available = true;
  record.checked_at = 1700000000 + static_cast<int64_t>(key.size());
  return record;
}

std::vector<std::string> KeysOf(const std::vector<UpdateRecord>& records) {
  std::vector<std::string> keys;
  for (const auto& r : records) keys.push_back(r.type + " " + r.name + ":" + r.tag);
  return keys;
}

class UpdateStoreTest : public MetadataTest {
 protected:
  void SetUp() override {
    MetadataTest::SetUp();
    ASSERT_TRUE(Open());
  }

  std::vector<std::string> Keys() {
    auto records = updates_->List();
    EXPECT_TRUE(records) << records.error().ToString();
    return records ? KeysOf(*records) : std::vector<std::string>{};
  }
};

TEST_F(UpdateStoreTest, PutThenGetAndPutAgainReplaces) {
  UpdateRecord first = MakeUpdate("docker", "docker.io/library/ubuntu", "latest");
  ASSERT_TRUE(updates_->Put(first));
  auto got = updates_->Get("docker", "docker.io/library/ubuntu", "latest");
  ASSERT_TRUE(got && got->has_value()) << (got ? "none" : got.error().ToString());
  EXPECT_EQ(Fields(**got), Fields(first));

  // The next check failed: every field is replaced, none is kept from the first record.
  UpdateRecord failed{"docker",   "docker.io/library/ubuntu", "latest", "sha256:local-2", "", false,
                      1800000000, "registry answered 503"};
  ASSERT_TRUE(updates_->Put(failed));
  got = updates_->Get("docker", "docker.io/library/ubuntu", "latest");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(Fields(**got), Fields(failed));
  EXPECT_EQ(Keys(), (std::vector<std::string>{"docker docker.io/library/ubuntu:latest"}));
}

TEST_F(UpdateStoreTest, GetOfWhatWasNeverCheckedIsNone) {
  ASSERT_TRUE(updates_->Put(MakeUpdate("docker", "docker.io/library/ubuntu", "latest")));
  for (const auto& [type, name, tag] : std::vector<Key>{
           {"lxc", "docker.io/library/ubuntu", "latest"},
           {"docker", "docker.io/library/alpine", "latest"},
           {"docker", "docker.io/library/ubuntu", "22.04"},
           {"docker", "docker.io/library/ubuntu", ""},
       }) {
    auto got = updates_->Get(type, name, tag);
    ASSERT_TRUE(got) << got.error().ToString();
    EXPECT_FALSE(got->has_value()) << type << " " << name << ":" << tag;
  }
}

TEST_F(UpdateStoreTest, ListIsByTypeNameTagByteWise) {
  for (const auto& [type, name, tag] : std::vector<Key>{
           {"lxc", "alpine", "3.19"},
           {"docker", "docker.io/library/ubuntu", "latest"},
           {"docker", "docker.io/library/ubuntu", "9"},
           {"docker", "docker.io/Zeta/app", "1"},  // 'Z' sorts before 'l'
           {"docker", "docker.io/library/ubuntu", "10"},
       }) {
    ASSERT_TRUE(updates_->Put(MakeUpdate(type, name, tag)));
  }
  EXPECT_EQ(Keys(), (std::vector<std::string>{
                        "docker docker.io/Zeta/app:1",
                        "docker docker.io/library/ubuntu:10",
                        "docker docker.io/library/ubuntu:9",
                        "docker docker.io/library/ubuntu:latest",
                        "lxc alpine:3.19",
                    }));
  auto records = updates_->List();
  ASSERT_TRUE(records);
  EXPECT_EQ(Fields(records->front()), Fields(MakeUpdate("docker", "docker.io/Zeta/app", "1")));
}

TEST_F(UpdateStoreTest, DeleteForgetsOneTagOrEveryTagOfTheName) {
  ASSERT_TRUE(updates_->Put(MakeUpdate("docker", "ubuntu", "latest")));
  ASSERT_TRUE(updates_->Put(MakeUpdate("docker", "ubuntu", "22.04")));
  ASSERT_TRUE(updates_->Put(MakeUpdate("docker", "ubuntu", "24.04")));
  ASSERT_TRUE(updates_->Put(MakeUpdate("lxc", "ubuntu", "latest")));  // same name, other type
  ASSERT_TRUE(updates_->Put(MakeUpdate("docker", "alpine", "latest")));

  ASSERT_TRUE(updates_->Delete("docker", "ubuntu", "22.04"));
  EXPECT_EQ(Keys(), (std::vector<std::string>{"docker alpine:latest", "docker ubuntu:24.04",
                                              "docker ubuntu:latest", "lxc ubuntu:latest"}));
  ASSERT_TRUE(updates_->Delete("docker", "ubuntu", ""));
  EXPECT_EQ(Keys(), (std::vector<std::string>{"docker alpine:latest", "lxc ubuntu:latest"}));

  // Nothing (left) to forget is a success too.
  ASSERT_TRUE(updates_->Delete("docker", "ubuntu", ""));
  ASSERT_TRUE(updates_->Delete("docker", "alpine", "3.19"));
  ASSERT_TRUE(updates_->Delete("docker", "nginx", "latest"));
  EXPECT_EQ(Keys(), (std::vector<std::string>{"docker alpine:latest", "lxc ubuntu:latest"}));
}

TEST_F(UpdateStoreTest, PutRefusesAnEmptyTypeNameOrTag) {
  for (const UpdateRecord& record :
       {MakeUpdate("", "ubuntu", "latest"), MakeUpdate("docker", "", "latest"),
        MakeUpdate("docker", "ubuntu", "")}) {
    auto put = updates_->Put(record);
    ASSERT_FALSE(put) << KeysOf({record})[0];
    EXPECT_EQ(put.error().code, Code::kInvalidArgument);
    EXPECT_NE(put.error().message.find("UpdateStore::Put"), std::string::npos)
        << put.error().message;
  }
  EXPECT_EQ(Keys(), std::vector<std::string>{});
}

// A record survives a restart, and the delete of the image it was about (no foreign key).
TEST_F(UpdateStoreTest, RecordsSurviveReopenAndTheirImagesDelete) {
  ImageRecord image = MakeImage("ubuntu", "latest", {"sha256:a"});
  ASSERT_TRUE(images_->Put(image));
  UpdateRecord record = MakeUpdate("docker", image.name, image.tag);
  ASSERT_TRUE(updates_->Put(record));
  ASSERT_TRUE(images_->Delete(image.type, image.name, ""));
  Close();

  ASSERT_TRUE(Open());
  EXPECT_TRUE(images_->List()->empty());
  auto got = updates_->Get(record.type, record.name, record.tag);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(Fields(**got), Fields(record));
}

}  // namespace
}  // namespace wharf::metadata
