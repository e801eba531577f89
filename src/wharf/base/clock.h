// Clock: the one seam between wharf and the time of day, so that code with expiries, deadlines
// or back-off can be tested with a FakeClock instead of the real time and real sleeps. A class
// that needs time takes a Clock& (owned by the caller, outliving it); production passes
// Clock::Default(). Every Clock is thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>

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
  // Waits until SteadyNow() reaches `deadline`, unless `cancelled` (may be empty) turns true
  // first; asked as SleepFor asks it. Returns false if cancelled. For a timer that a
  // background thread waits on (a refresh every N seconds): on a FakeClock it blocks until
  // the test advances the clock past the deadline, where SleepFor would return at once.
  virtual bool WaitUntil(SteadyTime deadline, const std::function<bool()>& cancelled) = 0;

  // The process-wide SystemClock; never destroyed.
  static Clock& Default();
};

// The real time: std::chrono::system_clock, steady_clock and real sleeps.
class SystemClock final : public Clock {
 public:
  int64_t NowSeconds() override;
  SteadyTime SteadyNow() override;
  bool SleepFor(std::chrono::nanoseconds duration, const std::function<bool()>& cancelled) override;
  bool WaitUntil(SteadyTime deadline, const std::function<bool()>& cancelled) override;
};

// A clock for tests that moves only when told to. Its wall time starts at `start_seconds` and
// its steady time at an arbitrary fixed point; Advance moves both, SetNowSeconds only the wall
// time (as an operator setting the clock would). SleepFor never blocks: it advances the clock
// by the duration (unless cancelled first) and adds it to slept(). WaitUntil blocks until
// Advance reaches its deadline (or it is cancelled: asked every millisecond of real time);
// AwaitWaiters lets a test see that a background thread is parked in WaitUntil before it
// advances the clock. Thread-safe.
class FakeClock final : public Clock {
 public:
  static constexpr int64_t kDefaultStart = 1'700'000'000;  // 2023-11-14T22:13:20Z

  explicit FakeClock(int64_t start_seconds = kDefaultStart);

  int64_t NowSeconds() override;
  SteadyTime SteadyNow() override;
  bool SleepFor(std::chrono::nanoseconds duration, const std::function<bool()>& cancelled) override;
  bool WaitUntil(SteadyTime deadline, const std::function<bool()>& cancelled) override;

  // Waits (in real time, at most `timeout`) until at least `n` calls of WaitUntil are blocked
  // on a deadline the clock has not reached. A wait whose deadline an Advance reached no
  // longer counts from that Advance on, so "Advance, then AwaitWaiters(1)" returns once the
  // woken thread has done its work and waits again. False on timeout.
  bool AwaitWaiters(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));

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
  std::multiset<std::chrono::nanoseconds> deadlines_;  // of the blocked WaitUntil calls
  std::condition_variable changed_;  // on Advance and when a WaitUntil starts or ends
};

}  // namespace wharf
