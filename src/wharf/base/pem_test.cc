#include "wharf/base/pem.h"

#include <gtest/gtest.h>

#include <string>

#include "wharf/base/test_certificate.h"

namespace wharf {
namespace {

constexpr std::string_view kCert = kTestCertificatePem;

TEST(PemTest, CountsCertificatesWithTextAround) {
  auto one = CountPemCertificates(kCert);
  ASSERT_TRUE(one) << one.error().ToString();
  EXPECT_EQ(*one, 1);
  auto two =
      CountPemCertificates("subject: test\n" + std::string(kCert) + "\n" + std::string(kCert));
  ASSERT_TRUE(two) << two.error().ToString();
  EXPECT_EQ(*two, 2);
}

TEST(PemTest, RefusesTextWithoutCertificatesAndBrokenBlocks) {
  for (std::string_view text : {"", "hello", "-----BEGIN PRIVATE KEY-----\nAAAA\n"}) {
    auto got = CountPemCertificates(text);
    ASSERT_FALSE(got) << text;
    EXPECT_EQ(got.error().code, Code::kInvalidArgument);
    EXPECT_NE(got.error().message.find("no certificate"), std::string::npos);
  }
  std::string broken(kCert);
  broken.replace(broken.find("MIIB"), 4, "!!!!");
  auto got = CountPemCertificates(std::string(kCert) + broken);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kInvalidArgument);
  EXPECT_NE(got.error().message.find("certificate 2 does not parse"), std::string::npos)
      << got.error().message;
}

}  // namespace
}  // namespace wharf
