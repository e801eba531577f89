// UpdateWebhook: tells a URL of the updates a check run found, for people who want a
// notification. One JSON POST per run that turned flags on,
//   {"updates": [{"type", "name", "tag", "local_digest", "remote_digest"}]}
// (name as listed), sent from a thread of its own, so that a slow or dead receiver never holds
// up or fails a check. Each POST is tried up to `tries` times while it fails transiently
// (backoff and Retry-After as for registry requests), within `timeout_s` in all; one that
// still fails is logged and dropped. At most `max_pending` POSTs wait; a run's beyond that is
// dropped, logged. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "wharf/registry/http_poster.h"
#include "wharf/service/updates.h"

namespace wharf::service {

struct WebhookOptions {
  std::string url;  // [updates] webhook_url
  int tries = 3;
  int timeout_s = 30;
  size_t max_pending = 16;
};

class UpdateWebhook {
 public:
  // `poster` must outlive the webhook.
  UpdateWebhook(WebhookOptions options, registry::HttpPoster& poster);
  // Cuts a POST in flight (within about a second) and drops those waiting.
  ~UpdateWebhook();
  UpdateWebhook(const UpdateWebhook&) = delete;
  UpdateWebhook& operator=(const UpdateWebhook&) = delete;

  // Queues one POST of `fresh` (none when it is empty) and returns.
  void Notify(const std::vector<UpdateView>& fresh);
  // Waits (at most `timeout_ms`) until no POST waits or is in flight; false on timeout. For
  // tests and for a daemon that stops.
  bool Drain(int timeout_ms);

  // The JSON body of the POST of `fresh`.
  static std::string Body(const std::vector<UpdateView>& fresh);

 private:
  void Loop();

  WebhookOptions options_;
  registry::HttpPoster& poster_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> pending_;  // bodies
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace wharf::service
