#include "wharf/content/unpack_limits.h"

#include <gtest/gtest.h>

namespace wharf::content {
namespace {

TEST(UnpackMeterTest, SizeBoundNamesTheStreamAndTheKey) {
  UnpackMeter meter({.max_bytes = 1000, .max_ratio = 0}, "layer sha256:ab");
  EXPECT_TRUE(meter.Check(10, 1000));
  auto over = meter.Check(10, 1001);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, Code::kTooLarge);
  EXPECT_EQ(over.error().message,
            "layer sha256:ab unpacks to over 1000 bytes (downloads.max_unpacked_bytes)");
}

TEST(UnpackMeterTest, RatioAppliesOnlyPastTheFreeBytes) {
  UnpackMeter meter({.max_ratio = 100, .ratio_free_bytes = 1 << 20}, "rootfs.tar.xz");
  EXPECT_TRUE(meter.Check(1, 1 << 20));      // 1 MiB from one byte: still free
  EXPECT_TRUE(meter.Check(20000, 2000000));  // exactly 100:1
  auto over = meter.Check(20000, 2000100);   // just over
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, Code::kTooLarge);
  EXPECT_EQ(over.error().message,
            "rootfs.tar.xz unpacks to over 100 times its compressed size (2000100 bytes from "
            "20000; downloads.max_unpack_ratio)");
  UnpackMeter off({.max_bytes = UINT64_MAX, .max_ratio = 0, .ratio_free_bytes = 0}, "x");
  EXPECT_TRUE(off.Check(1, uint64_t{1} << 40));
}

TEST(UnpackMeterTest, CancelIsPolledEveryFewMiBOfOutput) {
  int polls = 0;
  bool stop = false;
  UnpackMeter meter({.max_ratio = 0,
                     .cancelled =
                         [&] {
                           ++polls;
                           return stop;
                         }},
                    "x");
  for (uint64_t out = 0; out <= 4 * kCancelPollBytes; out += 256 << 10) {
    ASSERT_TRUE(meter.Check(1, out));
  }
  EXPECT_EQ(polls, 4);
  stop = true;
  auto cut = meter.Check(1, 6 * kCancelPollBytes);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, Code::kCancelled);
}

TEST(UnpackMeterTest, DeclaredSizes) {
  UnpackMeter meter({.max_bytes = 4096}, "rootfs.tar.xz");
  EXPECT_TRUE(meter.CheckDeclared(4096, "its entries"));
  auto over = meter.CheckDeclared(4097, "its entries");
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().message,
            "rootfs.tar.xz: its entries add up to over 4096 bytes (downloads.max_unpacked_bytes)");
}

}  // namespace
}  // namespace wharf::content
