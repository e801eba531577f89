#include "wharf/api/handlers.h"

#include <charconv>
#include <memory>
#include <sstream>

#include "wharf/api/views.h"
#include "wharf/base/file_util.h"

namespace wharf::api {

std::string FormatEvent(const service::Event& e) {
  return "id: " + std::to_string(e.id) + "\nevent: " + e.type + "\ndata: " + e.data + "\n\n";
}

std::shared_ptr<void> EventStreamSlots::Take(const std::string& user) {
  std::lock_guard lock(mu_);
  size_t& mine = by_user_[user];
  if (open_ >= total_ || mine >= per_user_) {
    if (mine == 0) by_user_.erase(user);
    return nullptr;
  }
  ++mine;
  ++open_;
  return std::shared_ptr<void>(static_cast<void*>(this), [this, user](void*) {
    std::lock_guard lock(mu_);
    --open_;
    if (--by_user_[user] == 0) by_user_.erase(user);
  });
}

namespace {

// The events of one subscription as an HTTP stream.
class EventStream : public HttpStream {
 public:
  EventStream(service::EventBus& bus, std::shared_ptr<service::EventBus::Subscription> sub,
              std::shared_ptr<void> slot)
      : bus_(bus), sub_(std::move(sub)), slot_(std::move(slot)) {}
  ~EventStream() override { sub_->SetWaker({}); }

  std::optional<std::string> Take() override {
    std::string text;
    // Several events at once when they came together, in one write; bounded per write.
    while (text.size() < (64 << 10)) {
      auto event = sub_->Next(0);
      if (!event) break;
      text += FormatEvent(*event);
    }
    if (text.empty() && (sub_->dropped() || bus_.closed())) return std::nullopt;
    return text;
  }
  void OnReady(std::function<void()> wake) override { sub_->SetWaker(std::move(wake)); }
  std::string Heartbeat() override { return ": ping\n\n"; }

 private:
  service::EventBus& bus_;
  std::shared_ptr<service::EventBus::Subscription> sub_;
  std::shared_ptr<void> slot_;
};

}  // namespace

void ServeEvents(service::EventBus& bus, const HttpRequest& req, std::shared_ptr<void> slot,
                 HttpResponse& res) {
  std::string last =
      req.Header("Last-Event-ID") ? *req.Header("Last-Event-ID") : req.Param("last_event_id");
  int64_t last_id = -1;
  if (!last.empty()) {
    auto [ptr, ec] = std::from_chars(last.data(), last.data() + last.size(), last_id);
    if (ec != std::errc() || ptr != last.data() + last.size() || last_id < 0) last_id = -1;
  }
  res.status = 200;
  res.content_type = "text/event-stream";
  res.AddHeader("Cache-Control", "no-store");
  res.AddHeader("X-Accel-Buffering", "no");
  res.stream = std::make_shared<EventStream>(bus, bus.Subscribe(last_id), std::move(slot));
}

namespace {

std::string ContentType(const std::filesystem::path& file) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".json", "application/json"},
      {".ico", "image/x-icon"}};
  auto it = kTypes.find(file.extension().string());
  return it != kTypes.end() ? it->second : "application/octet-stream";
}

}  // namespace

Result<void> ServeStatic(const std::filesystem::path& share_dir, const std::string& path,
                         HttpResponse& res) {
  std::filesystem::path file;
  if (path == "/" || path == "/index.html") {
    file = share_dir / "web" / "index.html";
  } else {
    std::string_view rel = path;
    rel.remove_prefix(1);  // "web/..." or "icons/..."
    for (size_t start = 0; start <= rel.size();) {
      size_t slash = rel.find('/', start);
      std::string_view seg = rel.substr(start, slash == rel.npos ? rel.npos : slash - start);
      if (seg.empty() || seg == "." || seg == "..") return NotFound("no such file: " + path);
      if (slash == rel.npos) break;
      start = slash + 1;
    }
    file = share_dir / std::string(rel);
  }
  auto body = ReadFile(file, 8 << 20);
  if (!body) return NotFound("no such file: " + path);
  res.status = 200;
  res.AddHeader("Cache-Control", "no-cache");
  res.SetBody(std::move(*body), ContentType(file));
  return {};
}

void RequestCounts::Add(const std::string& route, int status) {
  std::lock_guard lock(mu_);
  ++counts_[{route, status}];
}

std::map<std::pair<std::string, int>, int64_t> RequestCounts::Snapshot() const {
  std::lock_guard lock(mu_);
  return counts_;
}

std::string RenderMetrics(const service::DownloadStats& q, int64_t store_bytes,
                          const RequestCounts& requests) {
  std::ostringstream out;
  auto family = [&](const char* name, const char* type, const char* help) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  };
  family("wharf_downloads_total", "counter", "Finished downloads by outcome.");
  out << "wharf_downloads_total{outcome=\"done\"} " << q.done << "\n";
  out << "wharf_downloads_total{outcome=\"failed\"} " << q.failed << "\n";
  out << "wharf_downloads_total{outcome=\"cancelled\"} " << q.cancelled << "\n";
  family("wharf_pulled_bytes_total", "counter", "Bytes of completed downloads.");
  out << "wharf_pulled_bytes_total " << q.bytes_pulled << "\n";
  family("wharf_download_duration_seconds", "summary", "Duration of completed downloads.");
  out << "wharf_download_duration_seconds_sum " << q.job_seconds_sum << "\n";
  out << "wharf_download_duration_seconds_count " << q.done << "\n";
  family("wharf_downloads_running", "gauge", "Downloads running now.");
  out << "wharf_downloads_running " << q.running << "\n";
  family("wharf_downloads_waiting", "gauge", "Downloads waiting for a slot.");
  out << "wharf_downloads_waiting " << q.waiting << "\n";
  family("wharf_store_bytes", "gauge", "Bytes of the blobs in the content store.");
  out << "wharf_store_bytes " << store_bytes << "\n";
  family("wharf_http_requests_total", "counter", "API requests by route and status.");
  for (const auto& [key, count] : requests.Snapshot()) {
    out << "wharf_http_requests_total{route=\"" << key.first << "\",status=\"" << key.second
        << "\"} " << count << "\n";
  }
  return out.str();
}

}  // namespace wharf::api
