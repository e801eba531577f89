// For tests: a self-signed P-256 certificate (CN=wharf-test, valid until 2126) as PEM, for
// checks of CA text; its key is not kept.
#pragma once

#include <string_view>

namespace wharf {

inline constexpr std::string_view kTestCertificatePem = R"pem(-----BEGIN CERTIFICATE-----
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

}  // namespace wharf
