#include "wharf/base/status.h"

#include <cstring>

namespace wharf {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kInvalidArgument:
      return "InvalidArgument";
    case Code::kUnauthenticated:
      return "Unauthenticated";
    case Code::kPermissionDenied:
      return "PermissionDenied";
    case Code::kNotFound:
      return "NotFound";
    case Code::kConflict:
      return "Conflict";
    case Code::kTooLarge:
      return "TooLarge";
    case Code::kResourceExhausted:
      return "ResourceExhausted";
    case Code::kUnavailable:
      return "Unavailable";
    case Code::kDataLoss:
      return "DataLoss";
    case Code::kCancelled:
      return "Cancelled";
    case Code::kInternal:
      return "Internal";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code)) + ": " + message;
}

Error ErrnoError(std::string_view context, int err) {
  Code code = Code::kInternal;
  if (err == ENOENT) code = Code::kNotFound;
  return Fail(code, std::string(context) + ": " + std::strerror(err));
}

}  // namespace wharf
