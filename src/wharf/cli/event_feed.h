// Follows wharfd's events stream (GET /api/v1/events) on a thread of its own: parses it,
// queues the events for the caller, and when the connection drops reconnects with
// Last-Event-ID so that nothing inside the server's replay window is lost (a few attempts in
// a row, then it gives up and says why). SIGINT is blocked on that thread, so Ctrl-C always
// reaches the caller's thread. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "wharf/cli/api_client.h"
#include "wharf/cli/sse.h"

namespace wharf::cli {

class EventFeed {
 public:
  explicit EventFeed(const ApiClient& api) : api_(api) {}
  ~EventFeed() { Stop(); }
  EventFeed(const EventFeed&) = delete;
  EventFeed& operator=(const EventFeed&) = delete;

  void Start();
  // Stops the stream at once and joins the thread. Idempotent.
  void Stop();
  // Stops it, forgets its state and queue (not where to resume: Last-Event-ID is kept) and
  // starts again: for a feed that gave up while wharfd was away, once wharfd answers again.
  void Restart();

  // Waits until the first connection is open (true) or failed: false when the server has no
  // events endpoint (404, an older wharfd), the error otherwise (e.g. 401).
  Result<bool> WaitOpen(int timeout_ms);
  // The next event, waiting up to `timeout_ms`; nullopt on timeout or once the feed ended.
  std::optional<SseEvent> Next(int timeout_ms);
  // Why the feed ended, once it gave up; nullopt while it runs.
  std::optional<Status> failure() const;

 private:
  enum class State { kConnecting, kOpen, kUnsupported, kFailed };
  void Run();

  const ApiClient& api_;
  std::unique_ptr<StreamCancel> cancel_ = std::make_unique<StreamCancel>();  // one per run
  std::string last_id_;  // where to resume after a dropped connection
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  State state_ = State::kConnecting;
  bool ever_open_ = false;
  std::optional<Status> failure_;
  std::deque<SseEvent> queue_;
};

}  // namespace wharf::cli
