// Handlers that are not JSON request/answer pairs: the events stream, the web page's static
// files, and the Prometheus metrics page. Internal to the api module.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "wharf/api/http_message.h"
#include "wharf/base/status.h"
#include "wharf/service/downloads.h"
#include "wharf/service/events.h"

namespace wharf::api {

// Open event streams, per user and in total. Thread-safe.
class EventStreamSlots {
 public:
  EventStreamSlots(size_t per_user, size_t total) : per_user_(per_user), total_(total) {}
  // A slot for one stream of `user`, given back when the last copy of the result goes; null
  // when the user or everyone is at the limit.
  std::shared_ptr<void> Take(const std::string& user);
  size_t per_user() const { return per_user_; }
  size_t total() const { return total_; }

 private:
  const size_t per_user_;
  const size_t total_;
  std::mutex mu_;
  size_t open_ = 0;
  std::map<std::string, size_t> by_user_;
};

// GET /api/v1/events: Server-Sent Events from `bus`, starting after the Last-Event-ID header
// (or ?last_event_id=) when given. A ": ping" comment every 15 s keeps proxies from closing
// the stream; a client dropped by the bus (too slow) or a closed bus ends the stream. `slot`
// is held for as long as the stream is open.
void ServeEvents(service::EventBus& bus, const HttpRequest& req, std::shared_ptr<void> slot,
                 HttpResponse& res);
// One event in the text/event-stream format.
std::string FormatEvent(const service::Event& event);

// GET /, /web/..., /icons/...: files under share_dir/web and share_dir/icons. NotFound for
// anything else, including paths with "..".
Result<void> ServeStatic(const std::filesystem::path& share_dir, const std::string& path,
                         HttpResponse& res);

// Requests by route and status, for /metrics. Thread-safe.
class RequestCounts {
 public:
  void Add(const std::string& route, int status);
  std::map<std::pair<std::string, int>, int64_t> Snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, int64_t> counts_;
};

// The Prometheus text exposition of wharf's counters.
std::string RenderMetrics(const service::DownloadStats& queue, int64_t store_bytes,
                          const RequestCounts& requests);

}  // namespace wharf::api
