#include "wharf/service/updates_webhook.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>

namespace wharf::service {

UpdateWebhook::UpdateWebhook(WebhookOptions options, registry::HttpPoster& poster)
    : options_(std::move(options)), poster_(poster), thread_([this] { Loop(); }) {}

UpdateWebhook::~UpdateWebhook() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::string UpdateWebhook::Body(const std::vector<UpdateView>& fresh) {
  nlohmann::json updates = nlohmann::json::array();
  for (const auto& view : fresh) {
    updates.push_back({{"type", view.type},
                       {"name", view.name},
                       {"tag", view.tag},
                       {"local_digest", view.local_digest},
                       {"remote_digest", view.remote_digest}});
  }
  return nlohmann::json{{"updates", std::move(updates)}}.dump();
}

void UpdateWebhook::Notify(const std::vector<UpdateView>& fresh) {
  if (fresh.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (pending_.size() >= options_.max_pending) {
      spdlog::warn("update webhook {}: {} POSTs wait already; {} new updates not sent",
                   options_.url, pending_.size(), fresh.size());
      return;
    }
    pending_.push_back(Body(fresh));
  }
  cv_.notify_all();
}

bool UpdateWebhook::Drain(int timeout_ms) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [this] { return pending_.empty() && !busy_; });
}

void UpdateWebhook::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (stopping_) return;
    registry::HttpPostRequest request{.url = options_.url,
                                      .body = std::move(pending_.front()),
                                      .request_tries = options_.tries,
                                      .total_timeout_s = options_.timeout_s};
    pending_.pop_front();
    busy_ = true;
    request.cancelled = [this] {
      std::lock_guard stop_lock(mu_);
      return stopping_;
    };
    lock.unlock();
    auto posted = poster_.Post(request);
    if (!posted && posted.error().code != Code::kCancelled) {
      spdlog::warn("update webhook: {}", posted.error().message);
    }
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace wharf::service
