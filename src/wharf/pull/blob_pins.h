// Keeps blobs that running downloads rely on safe from garbage collection.
//
// A download pins the digests it needs before it checks whether they are already in the
// store; the collector takes a snapshot of the pins and deletes blobs under an exclusive lock.
// So a blob a download found present cannot vanish before the download's image is recorded,
// and a blob deleted by the collector is seen as absent by any download that pins after.
// Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

namespace wharf::pull {

class BlobPins {
 public:
  // Releases its pins when destroyed. Movable.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease();
    // Pins more digests under this lease.
    void Add(const std::vector<std::string>& digests);

   private:
    friend class BlobPins;
    explicit Lease(BlobPins* pins) : pins_(pins) {}
    void Release();
    BlobPins* pins_ = nullptr;
    std::vector<std::string> digests_;
  };

  Lease Pin(const std::vector<std::string>& digests);

  // Runs `collect(pinned)` while no pin can be added: the collector deletes what is neither
  // pinned nor referenced by an image.
  template <typename Fn>
  void Collect(Fn&& collect) {
    std::unique_lock gc(gc_mu_);
    std::set<std::string> pinned;
    {
      std::lock_guard lock(mu_);
      for (const auto& [digest, count] : counts_) pinned.insert(digest);
    }
    collect(pinned);
  }

 private:
  void AddPins(const std::vector<std::string>& digests);
  void RemovePins(const std::vector<std::string>& digests);

  std::shared_mutex gc_mu_;
  std::mutex mu_;
  std::map<std::string, int> counts_;
};

}  // namespace wharf::pull
