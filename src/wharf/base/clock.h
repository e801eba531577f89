// Clock: the one seam between wharf and the time of day, so that code with expiries, deadlines
// or back-off can be tested with a FakeClock instead of the real time and real sleeps. A class
// that needs time takes a Clock& (owned by the caller, outliving it); production passes
// Clock::Default(). Every Clock is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>

namespace wharf {

class Clock {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;

  // Wall time: seconds since the Unix epoch. May jump (the operator sets the clock), so it is
  // for timestamps that are stored or shown; measure intervals with SteadyNow().
  virtual int64_t NowSeconds() = 0;
  // Monotonic time for deadlines and intervals; never goes back. Meaningful only as a
  // difference with another SteadyNow() of the same clock.
  virtual SteadyTime SteadyNow() = 0;
  // Waits `duration` of steady time, unless `cancelled` (may be empty) turns true first; it is
  // asked before waiting and then at least every 50 ms. Returns false if cancelled.
  virtual bool SleepFor(std::chrono::nanoseconds duration,
                        const std::function<bool()>& cancelled) = 0;

  // The process-wide SystemClock; never destroyed.
  static Clock& Default();
};

// The real time: std::chrono::system_clock, steady_clock and real sleeps.
class SystemClock final : public Clock {
 public:
  int64_t NowSeconds() override;
  SteadyTime SteadyNow() override;
  bool SleepFor(std::chrono::nanoseconds duration, const std::function<bool()>& cancelled) override;
};

// A clock for tests that moves only when told to. Its wall time starts at `start_seconds` and
// its steady time at an arbitrary fixed point; Advance moves both, SetNowSeconds only the wall
// time (as an operator setting the clock would). SleepFor never blocks: it advances the clock
// by the duration (unless cancelled first) and adds it to slept(). Thread-safe.
class FakeClock final : public Clock {
 public:
  static constexpr int64_t kDefaultStart = 1'700'000'000;  // 2023-11-14T22:13:20Z

  explicit FakeClock(int64_t start_seconds = kDefaultStart);

  int64_t NowSeconds() override;
  SteadyTime SteadyNow() override;
  bool SleepFor(std::chrono::nanoseconds duration, const std::function<bool()>& cancelled) override;

  // Moves wall and steady time forward by `by` (a negative `by` does nothing).
  void Advance(std::chrono::nanoseconds by);
  // Sets the wall time, forward or back; steady time stays.
  void SetNowSeconds(int64_t epoch_seconds);
  // The total duration of the SleepFor calls that were not cancelled.
  std::chrono::nanoseconds slept();

 private:
  std::mutex mu_;
  std::chrono::nanoseconds wall_;    // since the Unix epoch
  std::chrono::nanoseconds steady_;  // since the steady clock's epoch
  std::chrono::nanoseconds slept_{0};
};

}  // namespace wharf
