#include "wharf/api/views.h"

#include <algorithm>

#include "wharf/base/file_util.h"

namespace wharf::api {

HttpResponse JsonAnswer(int status, const nlohmann::json& body) {
  HttpResponse res;
  res.status = status;
  res.SetBody(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return res;
}

nlohmann::json ErrorView(int http_status, const std::string& message) {
  return {{"error", {{"code", http_status}, {"message", message}}}};
}

int HttpStatus(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kConflict:
      return 409;
    case Code::kTooLarge:
      return 413;
    case Code::kResourceExhausted:
      return 429;
    case Code::kUnavailable:
    case Code::kDataLoss:
      return 502;
    case Code::kCancelled:
      return 409;
    case Code::kInternal:
      return 500;
  }
  return 500;
}

nlohmann::json LoginView(const service::Session& session) {
  return {{"anonymous", false},
          {"isAdmin", session.is_admin},
          {"logintime", FormatLocalTime(session.created_at)},
          {"username", session.username}};
}

nlohmann::json ListingView(const std::string& depot, const std::string& filter_text,
                           const std::string& type, nlohmann::json results) {
  size_t count = results.size();
  return {{"category", depot},          {"from", depot},
          {"filter_text", filter_text}, {"results", std::move(results)},
          {"total_count", count},       {"type", type}};
}

nlohmann::json LocalEntryView(const service::LocalImage& image) {
  nlohmann::json entry = {
      {"description", image.description},
      {"downloading", image.downloading},
      {"icon", image.icon},
      {"installed", true},
      {"name", image.name},
      {"repository", "local"},
      {"tags", image.tags},
      {"type", image.type},
  };
  if (image.type == "lxc") {
    nlohmann::json sizes = nlohmann::json::array();
    for (int64_t s : image.sizes) sizes.push_back(std::to_string(s));
    entry["size"] = std::move(sizes);
  } else {
    entry["size"] = image.sizes;
    nlohmann::json latest = nlohmann::json::array();
    for (const auto& t : image.tags) {
      if (t == "latest") latest.push_back(t);
    }
    entry["is_latest"] = std::move(latest);
    entry["ids"] = image.ids;
    entry["created"] = image.created;
  }
  entry["update_available"] = image.updates;
  return entry;
}

nlohmann::json JobView(const service::DownloadView& job) {
  nlohmann::json percent = nullptr;
  if (job.bytes_total > 0) {
    int64_t p = job.bytes_done * 100 / job.bytes_total;
    percent = std::clamp<int64_t>(p, 0, 100);
  }
  return {{"name", job.name},
          {"percent", percent},
          {"status", job.status},
          {"tag", job.tag},
          {"type", job.type},
          {"bytes_done", job.bytes_done},
          {"bytes_total", job.bytes_total},
          {"error", job.error}};
}

}  // namespace wharf::api
