#include "wharf/metadata/job_store.h"

#include <gtest/gtest.h>

#include "wharf/metadata/metadata_test_util.h"

namespace wharf::metadata {
namespace {

class JobStoreTest : public MetadataTest {
 protected:
  void SetUp() override {
    MetadataTest::SetUp();
    ASSERT_TRUE(Open());
  }
};

TEST_F(JobStoreTest, JobsRoundTripUpdateAndDelete) {
  JobRecord first = MakeJob("ubuntu");
  JobRecord second = MakeJob("redis");
  auto first_id = jobs_->Add(first);
  auto second_id = jobs_->Add(second);
  ASSERT_TRUE(first_id && second_id);
  EXPECT_GT(*second_id, *first_id);
  first.id = *first_id;
  second.id = *second_id;

  second.state = "failed";
  second.error = "manifest unknown";
  second.finished_at = 1700000100;
  second.description = "changed";
  second.source = "qnap";
  ASSERT_TRUE(jobs_->Update(second));

  auto jobs = jobs_->List();
  ASSERT_TRUE(jobs) << jobs.error().ToString();
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ(Fields((*jobs)[0]), Fields(first));
  EXPECT_EQ(Fields((*jobs)[1]), Fields(second));

  ASSERT_TRUE(jobs_->Delete(second.id));
  ASSERT_TRUE(jobs_->Delete(second.id));  // already gone is fine
  jobs = jobs_->List();
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].id, first.id);
  // Ids are never reused, so a stale id cannot name a newer job.
  auto third_id = jobs_->Add(MakeJob("nginx"));
  ASSERT_TRUE(third_id);
  EXPECT_GT(*third_id, second.id);
}

TEST_F(JobStoreTest, UpdateOnMissingIdIsNotFound) {
  JobRecord job = MakeJob("ubuntu");
  job.id = 77;
  auto updated = jobs_->Update(job);
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, Code::kNotFound);
  EXPECT_NE(updated.error().message.find("JobStore::Update"), std::string::npos)
      << updated.error().message;
  auto jobs = jobs_->List();
  ASSERT_TRUE(jobs);
  EXPECT_TRUE(jobs->empty());
}

}  // namespace
}  // namespace wharf::metadata
