#include "wharf/content/unpack_limits.h"

#include <utility>

namespace wharf::content {

UnpackMeter::UnpackMeter(UnpackLimits limits, std::string what)
    : limits_(std::move(limits)), what_(std::move(what)) {}

Result<void> UnpackMeter::Check(uint64_t compressed, uint64_t unpacked) {
  if (unpacked > limits_.max_bytes) {
    return TooLarge(what_ + " unpacks to over " + std::to_string(limits_.max_bytes) +
                    " bytes (downloads.max_unpacked_bytes)");
  }
  // unpacked / compressed > ratio, without the product overflowing.
  if (limits_.max_ratio != 0 && unpacked > limits_.ratio_free_bytes &&
      unpacked / limits_.max_ratio > compressed) {
    return TooLarge(what_ + " unpacks to over " + std::to_string(limits_.max_ratio) +
                    " times its compressed size (" + std::to_string(unpacked) + " bytes from " +
                    std::to_string(compressed) + "; downloads.max_unpack_ratio)");
  }
  if (unpacked >= next_poll_) {
    next_poll_ = unpacked + kCancelPollBytes;
    if (limits_.cancelled && limits_.cancelled()) return Cancelled("download stopped");
  }
  return {};
}

Result<void> UnpackMeter::CheckDeclared(uint64_t declared, std::string_view of) const {
  if (declared <= limits_.max_bytes) return {};
  return TooLarge(what_ + ": " + std::string(of) + " add up to over " +
                  std::to_string(limits_.max_bytes) + " bytes (downloads.max_unpacked_bytes)");
}

}  // namespace wharf::content
