#include "wharf/engine/engine.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "wharf/archive/image_archive.h"
#include "wharf/base/digest.h"

namespace wharf::engine {

namespace {

constexpr size_t kMaxAnswer = 1 << 20;  // an engine's answer is a few lines of JSON

struct Call {
  const char* method;
  std::string path;
  archive::ImageArchive* body = nullptr;  // uploaded as application/x-tar when set
  const std::atomic<bool>* cancel = nullptr;
  int timeout_s = 600;
};

struct Answer {
  long status = 0;
  std::string body;
};

struct Transfer {
  const Call& call;
  std::string answer;
  std::optional<Status> body_error;  // why the archive could not be read
};

size_t ReadBody(char* buf, size_t size, size_t n, void* p) {
  auto* t = static_cast<Transfer*>(p);
  auto got = t->call.body->Read(buf, size * n);
  if (!got) {
    t->body_error = got.error();
    return CURL_READFUNC_ABORT;
  }
  return *got;
}

size_t WriteAnswer(char* data, size_t size, size_t n, void* p) {
  auto* t = static_cast<Transfer*>(p);
  size_t bytes = size * n;
  if (t->answer.size() < kMaxAnswer) t->answer.append(data, std::min(bytes, kMaxAnswer));
  return bytes;
}

int Progress(void* p, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* t = static_cast<Transfer*>(p);
  return t->call.cancel != nullptr && t->call.cancel->load() ? 1 : 0;
}

Error TransferError(CURLcode rc, const Transfer& t, const std::string& socket, int timeout_s) {
  if (t.body_error) return Error(*t.body_error);
  if (rc == CURLE_ABORTED_BY_CALLBACK) return Cancelled("hand-off to the engine cancelled");
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return Unavailable("the engine at " + socket + " did not answer within " +
                       std::to_string(timeout_s) + " s");
  }
  return Unavailable("cannot talk to the engine at " + socket + ": " + curl_easy_strerror(rc));
}

// One request over the engine's Unix socket.
Result<Answer> Exchange(const std::string& socket, const Call& call) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), curl_easy_cleanup);
  if (!h) return Internal("curl_easy_init failed");
  Transfer t{call, {}, {}};
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  if (call.body != nullptr) headers = curl_slist_append(headers, "Content-Type: application/x-tar");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> owned(headers, curl_slist_free_all);
  std::string url = "http://localhost" + call.path;
  CURL* c = h.get();
  curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket.c_str());
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, call.method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(call.timeout_s));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteAnswer);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, Progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  if (call.body != nullptr) {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(c, CURLOPT_READDATA, &t);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(call.body->size()));
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) return TransferError(rc, t, socket, call.timeout_s);
  Answer answer;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &answer.status);
  answer.body = std::move(t.answer);
  return answer;
}

}  // namespace

std::string EngineReference(const metadata::ImageRecord& image) {
  if (image.tag.empty() || Digest::Parse(image.tag).has_value()) return "";
  return image.name + ":" + image.tag;
}

std::string EngineMessage(long status, std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) {
    return j["message"].get<std::string>();
  }
  std::string text(body.substr(0, 200));
  return "HTTP " + std::to_string(status) + (text.empty() ? "" : ": " + text);
}

Result<std::string> LoadOutcome(long status, std::string_view body) {
  if (status < 200 || status > 299) {
    return Unavailable("the engine refused the image: " + EngineMessage(status, body));
  }
  std::string loaded;
  // A stream of JSON values, one per line as both engines write them.
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    auto j = nlohmann::json::parse(body.substr(pos, end - pos), nullptr, false);
    pos = end + 1;
    if (!j.is_object()) continue;
    if (j.contains("error")) {
      std::string message = j["error"].is_string() ? j["error"].get<std::string>() : j.dump();
      return Unavailable("the engine refused the image: " + message);
    }
    if (j.contains("stream") && j["stream"].is_string()) loaded += j["stream"].get<std::string>();
  }
  return loaded;
}

Engine::Engine(content::BlobStore& store, EngineOptions options)
    : store_(store), options_(std::move(options)) {}

Result<void> Engine::Load(const metadata::ImageRecord& image, const std::atomic<bool>* cancel) {
  if (!enabled()) return {};
  WHARF_ASSIGN_OR_RETURN(auto manifest, Digest::Parse(image.manifest_digest));
  std::string ref = EngineReference(image);
  std::vector<std::string> tags;
  if (!ref.empty()) tags.push_back(ref);
  WHARF_ASSIGN_OR_RETURN(auto contents,
                         archive::ImageOfManifest(store_, manifest, std::move(tags)));
  auto tar = archive::ImageArchive::Open(store_, {contents}, archive::ArchiveFormat::kDocker);
  if (!tar) return Error(tar.error());
  Call call{"POST", "/images/load?quiet=1", tar->get(), cancel, options_.timeout_s};
  WHARF_ASSIGN_OR_RETURN(auto answer, Exchange(options_.socket, call));
  WHARF_RETURN_IF_ERROR(LoadOutcome(answer.status, answer.body));
  return {};
}

Result<void> Engine::Remove(const metadata::ImageRecord& image) {
  if (!enabled()) return {};
  std::string ref = EngineReference(image);
  if (ref.empty()) return {};  // loaded untagged: nothing names it there
  WHARF_ASSIGN_OR_RETURN(
      auto answer, Exchange(options_.socket, Call{"DELETE", "/images/" + ref, nullptr, nullptr,
                                                  options_.timeout_s}));
  if (answer.status == 404) return NotFound("the engine has no image " + ref);
  if (answer.status < 200 || answer.status > 299) {
    return Unavailable("the engine did not remove " + ref + ": " +
                       EngineMessage(answer.status, answer.body));
  }
  return {};
}

Result<bool> Engine::Holds(const metadata::ImageRecord& image) {
  if (!enabled()) return false;
  std::string ref = EngineReference(image);
  if (ref.empty()) return false;
  WHARF_ASSIGN_OR_RETURN(
      auto answer, Exchange(options_.socket, Call{"GET", "/images/" + ref + "/json", nullptr,
                                                  nullptr, std::min(options_.timeout_s, 10)}));
  if (answer.status == 404) return false;
  if (answer.status != 200) {
    return Unavailable("the engine did not say whether it has " + ref + ": " +
                       EngineMessage(answer.status, answer.body));
  }
  auto j = nlohmann::json::parse(answer.body, nullptr, false);
  if (!j.is_object() || !j.contains("Id") || !j["Id"].is_string()) {
    return Unavailable("the engine's answer about " + ref + " has no Id");
  }
  const std::string id = j["Id"].get<std::string>();
  return id == image.config_digest || "sha256:" + id == image.config_digest;
}

}  // namespace wharf::engine
