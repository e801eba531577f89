// The connections one server holds open, in total and per client address, so that one client
// (or a flood of them) cannot take every place. Thread-safe.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace wharf::api {

class ConnectionLimits {
 public:
  ConnectionLimits(size_t total, size_t per_client) : max_total_(total), max_per_(per_client) {}

  // Takes a place for a connection from `addr`: nullopt when taken, else a message naming
  // the limit it is over (and nothing is taken). Give() it back when the connection ends.
  std::optional<std::string> Take(const std::string& addr);
  void Give(const std::string& addr);
  size_t open() {
    std::lock_guard lock(mu_);
    return total_;
  }

 private:
  const size_t max_total_;
  const size_t max_per_;
  std::mutex mu_;
  size_t total_ = 0;
  std::unordered_map<std::string, size_t> per_;  // addresses with a connection open
};

}  // namespace wharf::api
