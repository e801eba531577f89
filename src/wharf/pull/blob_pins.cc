#include "wharf/pull/blob_pins.h"

#include <utility>

namespace wharf::pull {

BlobPins::Lease::Lease(Lease&& other) noexcept
    : pins_(std::exchange(other.pins_, nullptr)), digests_(std::move(other.digests_)) {}

BlobPins::Lease& BlobPins::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    pins_ = std::exchange(other.pins_, nullptr);
    digests_ = std::move(other.digests_);
  }
  return *this;
}

BlobPins::Lease::~Lease() { Release(); }

void BlobPins::Lease::Add(const std::vector<std::string>& digests) {
  if (pins_ == nullptr) return;
  pins_->AddPins(digests);
  digests_.insert(digests_.end(), digests.begin(), digests.end());
}

void BlobPins::Lease::Release() {
  if (pins_ != nullptr) pins_->RemovePins(digests_);
  pins_ = nullptr;
  digests_.clear();
}

BlobPins::Lease BlobPins::Pin(const std::vector<std::string>& digests) {
  Lease lease(this);
  lease.Add(digests);
  return lease;
}

void BlobPins::AddPins(const std::vector<std::string>& digests) {
  std::shared_lock gc(gc_mu_);
  std::lock_guard lock(mu_);
  for (const auto& d : digests) ++counts_[d];
}

void BlobPins::RemovePins(const std::vector<std::string>& digests) {
  std::lock_guard lock(mu_);
  for (const auto& d : digests) {
    auto it = counts_.find(d);
    if (it != counts_.end() && --it->second == 0) counts_.erase(it);
  }
}

}  // namespace wharf::pull
