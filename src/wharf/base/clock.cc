#include "wharf/base/clock.h"

#include <algorithm>
#include <iterator>
#include <thread>

namespace wharf {

namespace {

// How often SystemClock::SleepFor asks whether it was cancelled.
constexpr std::chrono::milliseconds kCancelPoll{50};

// Where a FakeClock's steady time starts: a day after the steady clock's epoch, so that a
// deadline computed as SteadyNow() minus a duration is still after the epoch.
constexpr std::chrono::hours kFakeSteadyStart{24};

}  // namespace

Clock& Clock::Default() {
  static auto* clock = new SystemClock;  // never destroyed: threads may outlive statics
  return *clock;
}

int64_t SystemClock::NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Clock::SteadyTime SystemClock::SteadyNow() { return std::chrono::steady_clock::now(); }

bool SystemClock::SleepFor(std::chrono::nanoseconds duration,
                           const std::function<bool()>& cancelled) {
  const SteadyTime until = SteadyNow() + duration;
  for (;;) {
    if (cancelled && cancelled()) return false;
    auto left = until - SteadyNow();
    if (left <= SteadyTime::duration::zero()) return true;
    std::this_thread::sleep_for(std::min<SteadyTime::duration>(left, kCancelPoll));
  }
}

bool SystemClock::WaitUntil(SteadyTime deadline, const std::function<bool()>& cancelled) {
  return SleepFor(deadline - SteadyNow(), cancelled);
}

FakeClock::FakeClock(int64_t start_seconds)
    : wall_(std::chrono::seconds(start_seconds)), steady_(kFakeSteadyStart) {}

int64_t FakeClock::NowSeconds() {
  std::lock_guard lock(mu_);
  return std::chrono::floor<std::chrono::seconds>(wall_).count();
}

Clock::SteadyTime FakeClock::SteadyNow() {
  std::lock_guard lock(mu_);
  return SteadyTime(std::chrono::duration_cast<SteadyTime::duration>(steady_));
}

bool FakeClock::SleepFor(std::chrono::nanoseconds duration,
                         const std::function<bool()>& cancelled) {
  // Asked without the lock held, so that `cancelled` may look at this clock.
  if (cancelled && cancelled()) return false;
  duration = std::max(duration, std::chrono::nanoseconds::zero());
  {
    std::lock_guard lock(mu_);
    wall_ += duration;
    steady_ += duration;
    slept_ += duration;
  }
  changed_.notify_all();  // the time may have reached another thread's WaitUntil
  return true;
}

bool FakeClock::WaitUntil(SteadyTime deadline, const std::function<bool()>& cancelled) {
  const std::chrono::nanoseconds until = deadline.time_since_epoch();
  std::unique_lock lock(mu_);
  auto mine = deadlines_.insert(until);
  changed_.notify_all();
  bool reached = true;
  while (steady_ < until) {
    // Asked without the lock held, so that `cancelled` may look at this clock.
    lock.unlock();
    const bool stop = cancelled && cancelled();
    lock.lock();
    if (stop) {
      reached = false;
      break;
    }
    changed_.wait_for(lock, std::chrono::milliseconds(1));
  }
  deadlines_.erase(mine);
  changed_.notify_all();
  return reached;
}

bool FakeClock::AwaitWaiters(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] {
    auto pending = deadlines_.upper_bound(steady_);
    return static_cast<size_t>(std::distance(pending, deadlines_.end())) >= n;
  });
}

void FakeClock::Advance(std::chrono::nanoseconds by) {
  by = std::max(by, std::chrono::nanoseconds::zero());
  {
    std::lock_guard lock(mu_);
    wall_ += by;
    steady_ += by;
  }
  changed_.notify_all();
}

void FakeClock::SetNowSeconds(int64_t epoch_seconds) {
  std::lock_guard lock(mu_);
  wall_ = std::chrono::seconds(epoch_seconds);
}

std::chrono::nanoseconds FakeClock::slept() {
  std::lock_guard lock(mu_);
  return slept_;
}

}  // namespace wharf
