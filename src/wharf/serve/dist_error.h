// Errors of the OCI Distribution API as its clients read them: an HTTP status and one of the
// specification's codes ("NAME_UNKNOWN", "MANIFEST_UNKNOWN", ...) with a message for a
// person. The api module writes them as {"errors": [{"code", "message", "detail"}]}.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace wharf::serve {

struct DistError {
  int status = 404;
  std::string code;  // "NAME_UNKNOWN", "MANIFEST_UNKNOWN", "BLOB_UNKNOWN", "DIGEST_INVALID",
                     // "NAME_INVALID", "TAG_INVALID", "UNAUTHORIZED", "DENIED", "UNSUPPORTED",
                     // "TOOMANYREQUESTS", "UNKNOWN"
  std::string message;
};

template <typename T>
using DistResult = std::expected<T, DistError>;

inline std::unexpected<DistError> DistFail(int status, std::string code, std::string message) {
  return std::unexpected(DistError{status, std::move(code), std::move(message)});
}

}  // namespace wharf::serve
