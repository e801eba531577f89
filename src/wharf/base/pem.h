// Checks of PEM text given by users (a registry's CA certificates) before it is trusted.
// Pure, thread-safe.
#pragma once

#include <string_view>

#include "wharf/base/status.h"

namespace wharf {

// The number of X.509 certificates in `pem` (one or more "BEGIN CERTIFICATE" blocks, text
// around them allowed). InvalidArgument "no certificate" when there is none, or naming the
// block that does not parse ("certificate 2 does not parse: ...").
Result<int> CountPemCertificates(std::string_view pem);

}  // namespace wharf
