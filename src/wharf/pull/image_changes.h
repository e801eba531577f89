// A counter of changes to the set of local images, for caches of it (the local listing): it
// moves whenever an image may have been added or removed. The download queue counts a commit
// under the same lock that takes the job off its list, so a cache that checks the counter
// never shows less than downloadstatus has already let go of; the service counts deletions
// and failed jobs. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

namespace wharf::pull {

class ImageChanges {
 public:
  void Count() { count_.fetch_add(1); }
  uint64_t version() const { return count_.load(); }

 private:
  std::atomic<uint64_t> count_{0};
};

}  // namespace wharf::pull
