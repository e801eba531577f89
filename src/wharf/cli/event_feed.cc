#include "wharf/cli/event_feed.h"

#include <pthread.h>

#include <chrono>
#include <csignal>

namespace wharf::cli {

namespace {

constexpr long kIdleTimeoutS = 45;   // three missed keep-alive pings (sent every 15 s)
constexpr int kMaxReconnects = 5;    // in a row, without an event in between
constexpr size_t kMaxQueued = 4096;  // the oldest go first: only the latest state matters

}  // namespace

void EventFeed::Start() {
  thread_ = std::thread([this] { Run(); });
}

void EventFeed::Stop() {
  cancel_->Cancel();
  { std::lock_guard lock(mu_); }  // a waiter between its check and its wait sees the wakeup
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EventFeed::Restart() {
  Stop();
  {
    std::lock_guard lock(mu_);
    state_ = State::kConnecting;
    ever_open_ = false;
    failure_.reset();
    queue_.clear();
  }
  cancel_ = std::make_unique<StreamCancel>();
  Start();
}

Result<bool> EventFeed::WaitOpen(int timeout_ms) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
               [&] { return state_ != State::kConnecting; });
  switch (state_) {
    case State::kOpen:
      return true;
    case State::kUnsupported:
      return false;
    case State::kFailed:
      return Error(*failure_);
    case State::kConnecting:
      break;
  }
  return Unavailable("the events stream of " + api_.options().server + " did not open");
}

std::optional<SseEvent> EventFeed::Next(int timeout_ms) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
               [&] { return !queue_.empty() || state_ == State::kFailed; });
  if (queue_.empty()) return std::nullopt;
  SseEvent e = std::move(queue_.front());
  queue_.pop_front();
  return e;
}

std::optional<Status> EventFeed::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

void EventFeed::Run() {
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  pthread_sigmask(SIG_BLOCK, &block, nullptr);

  int attempts = 0;
  auto finish = [&](State state, std::optional<Status> why) {
    std::lock_guard lock(mu_);
    state_ = state;
    failure_ = std::move(why);
    cv_.notify_all();
  };
  while (!cancel_->cancelled()) {
    std::vector<std::string> headers;
    if (!last_id_.empty()) headers.push_back("Last-Event-ID: " + last_id_);
    SseParser parser;  // a partial event of a broken connection is dropped; it is replayed
    ApiClient::StreamHandlers handlers;
    handlers.on_open = [&] {
      std::lock_guard lock(mu_);
      state_ = State::kOpen;
      ever_open_ = true;
      cv_.notify_all();
    };
    handlers.on_data = [&](std::string_view chunk) {
      auto events = parser.Feed(chunk);
      if (!events.empty()) {
        attempts = 0;
        last_id_ = parser.last_event_id();
        std::lock_guard lock(mu_);
        for (auto& e : events) queue_.push_back(std::move(e));
        while (queue_.size() > kMaxQueued) queue_.pop_front();
        cv_.notify_all();
      }
      return true;
    };
    auto streamed = api_.Stream("/api/v1/events", headers, handlers, kIdleTimeoutS, cancel_.get());
    if (cancel_->cancelled()) break;
    bool was_open;
    {
      std::lock_guard lock(mu_);
      was_open = ever_open_;
    }
    if (!streamed && !was_open) {
      bool missing = streamed.error().code == Code::kNotFound;
      finish(missing ? State::kUnsupported : State::kFailed,
             missing ? std::nullopt : std::optional<Status>(streamed.error()));
      return;
    }
    if (!streamed && (streamed.error().code == Code::kUnauthenticated ||
                      streamed.error().code == Code::kPermissionDenied)) {
      finish(State::kFailed, streamed.error());
      return;
    }
    if (++attempts > kMaxReconnects) {
      finish(State::kFailed, streamed
                                 ? Status{Code::kUnavailable, "the events stream keeps closing"}
                                 : streamed.error());
      return;
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(200 << attempts),
                 [&] { return cancel_->cancelled(); });
  }
}

}  // namespace wharf::cli
