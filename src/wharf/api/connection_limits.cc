#include "wharf/api/connection_limits.h"

namespace wharf::api {

std::optional<std::string> ConnectionLimits::Take(const std::string& addr) {
  std::lock_guard lock(mu_);
  if (total_ >= max_total_) {
    return "too many connections (max_connections is " + std::to_string(max_total_) + ")";
  }
  auto it = per_.find(addr);
  if (it != per_.end() && it->second >= max_per_) {
    return "too many connections from " + addr + " (max_connections_per_client is " +
           std::to_string(max_per_) + ")";
  }
  ++per_[addr];
  ++total_;
  return std::nullopt;
}

void ConnectionLimits::Give(const std::string& addr) {
  std::lock_guard lock(mu_);
  --total_;
  if (auto it = per_.find(addr); it != per_.end() && --it->second == 0) per_.erase(it);
}

}  // namespace wharf::api
