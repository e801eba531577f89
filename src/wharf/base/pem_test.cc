#include "wharf/base/pem.h"

#include <gtest/gtest.h>

#include <string>

namespace wharf {
namespace {

// A self-signed P-256 certificate (CN=wharf-test).
constexpr std::string_view kCert = R"pem(-----BEGIN CERTIFICATE-----
MIIBgTCCASegAwIBAgIUavAJP/9LbKHSODxgcveCN1c+jsIwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKd2hhcmYtdGVzdDAgFw0yNjEyMDIwNTU0NDBaGA8yMTI2MTEw
ODA1NTQ0MFowFTETMBEGA1UEAwwKd2hhcmYtdGVzdDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABMQlMpytAUSnUPyyXTdyKzxN020NtLMGbjvxua5TK+xytb3I543+
QNug6fEW4WNXpo/lqBlSnyW96iaIbciiXsujUzBRMB0GA1UdDgQWBBQhhptmZ9YW
UdYpvWjn0fPglpxePzAfBgNVHSMEGDAWgBQhhptmZ9YWUdYpvWjn0fPglpxePzAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIEyncDvUo3u3TTreZH+m
xjbEXQ5u0pgiFlV05TsBqC7lAiEA8bwl3kVkT1C62t+Qw9xxcZ18+SXA61Ntvm+M
JL9N/4o=
-----END CERTIFICATE-----
)pem";

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
