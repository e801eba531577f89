#include "wharf/registry/test_registry.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string_view>

#include "wharf/base/digest.h"
#include "wharf/base/file_util.h"

extern char** environ;

namespace wharf::registry::testing {

namespace fs = std::filesystem;

namespace {

struct TestResponse {
  long status = 0;
  std::string location;
  std::string body;
};

size_t CollectBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t CollectLocation(char* data, size_t size, size_t n, void* out) {
  std::string_view line(data, size * n);
  if (line.size() > 9 && strncasecmp(line.data(), "location:", 9) == 0) {
    line.remove_prefix(9);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) {
      line.remove_prefix(1);
    }
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) {
      line.remove_suffix(1);
    }
    *static_cast<std::string*>(out) = std::string(line);
  }
  return size * n;
}

// One plain request for setting up tests; TLS is not verified (the test's own registry).
Result<TestResponse> TestHttp(const std::string& method, const std::string& url,
                              const std::vector<std::string>& headers, const std::string& body,
                              const std::string& userpwd) {
  CURL* h = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& header : headers) list = curl_slist_append(list, header.c_str());
  TestResponse response;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "PUT" || method == "POST") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  if (!userpwd.empty()) curl_easy_setopt(h, CURLOPT_USERPWD, userpwd.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, CollectLocation);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &response.location);
  CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(h);
  if (rc != CURLE_OK) return Unavailable(method + " " + url + ": " + curl_easy_strerror(rc));
  return response;
}

Result<void> ExpectStatus(const Result<TestResponse>& r, long want, const std::string& what) {
  if (!r) return Error(r.error());
  if (r->status != want) {
    return Internal(what + ": HTTP " + std::to_string(r->status) + ": " + r->body);
  }
  return {};
}

std::string RegistryYaml(const fs::path& dir, int port, const RegistryConfig& config) {
  std::string yaml =
      "version: 0.1\n"
      "log:\n"
      "  level: error\n"
      "  accesslog:\n"
      "    disabled: true\n"
      "storage:\n"
      "  filesystem:\n"
      "    rootdirectory: " +
      (dir / "data").string() +
      "\n"
      "  delete:\n"
      "    enabled: true\n"
      "http:\n"
      "  addr: 127.0.0.1:" +
      std::to_string(port) + "\n";
  if (config.tls) {
    yaml +=
        "  tls:\n"
        "    certificate: " +
        (dir / "cert.pem").string() +
        "\n"
        "    key: " +
        (dir / "key.pem").string() + "\n";
  }
  if (!config.username.empty()) {
    yaml +=
        "auth:\n"
        "  htpasswd:\n"
        "    realm: test\n"
        "    path: " +
        (dir / "htpasswd").string() + "\n";
  }
  return yaml;
}

std::string ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 206:
      return "Partial Content";
    case 307:
      return "Temporary Redirect";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 416:
      return "Range Not Satisfiable";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

bool SendAll(int fd, std::string_view data) {
  for (size_t sent = 0; sent < data.size();) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "wharf-registry-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

Result<std::string> RunCommand(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return Internal("popen " + command);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  int status = pclose(pipe);
  if (status != 0) return Internal(command + ": exit status " + std::to_string(status));
  return out;
}

Result<std::unique_ptr<RegistryProcess>> RegistryProcess::Start(const RegistryConfig& config) {
  std::unique_ptr<RegistryProcess> registry(new RegistryProcess());
  const fs::path& dir = registry->dir_.path();
  if (dir.empty()) return Internal("mkdtemp failed");
  registry->port_ = FreeLoopbackPort();
  registry->tls_ = config.tls;
  if (!config.username.empty()) {
    registry->userpwd_ = config.username + ":" + config.password;
    WHARF_ASSIGN_OR_RETURN(
        auto line, RunCommand("htpasswd -Bbn '" + config.username + "' '" + config.password + "'"));
    WHARF_RETURN_IF_ERROR(WriteFileAtomic(dir / "htpasswd", line));
  }
  if (config.tls) {
    WHARF_RETURN_IF_ERROR(RunCommand(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
        " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '" +
        (dir / "key.pem").string() + "' -out '" + (dir / "cert.pem").string() + "' 2>/dev/null"));
  }
  WHARF_RETURN_IF_ERROR(
      WriteFileAtomic(dir / "config.yml", RegistryYaml(dir, registry->port_, config)));

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  std::string log = (dir / "registry.log").string();
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::string config_path = (dir / "config.yml").string();
  const char* argv[] = {"/usr/bin/docker-registry", "serve", config_path.c_str(), nullptr};
  int rc = posix_spawn(&registry->pid_, argv[0], &actions, nullptr, const_cast<char* const*>(argv),
                       environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return ErrnoError("posix_spawn docker-registry", rc);

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(registry->pid_, &status, WNOHANG) == registry->pid_) {
      registry->pid_ = -1;
      auto text = ReadFile(log);
      return Internal("docker-registry exited: " + (text ? *text : std::string()));
    }
    if (auto r = TestHttp("GET", registry->url() + "/v2/", {}, "", ""); r && r->status != 0) {
      return registry;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Internal("docker-registry did not answer on " + registry->host());
}

RegistryProcess::~RegistryProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

Result<void> RegistryProcess::PushBlob(const std::string& name, const std::string& data) const {
  auto start = TestHttp("POST", url() + "/v2/" + name + "/blobs/uploads/", {}, "", userpwd_);
  WHARF_RETURN_IF_ERROR(ExpectStatus(start, 202, "start upload"));
  std::string location = start->location;
  if (location.starts_with('/')) location = url() + location;
  location += (location.find('?') == std::string::npos ? "?" : "&");
  location += "digest=" + Digest::Of(data).str();
  auto put = TestHttp("PUT", location, {"Content-Type: application/octet-stream"}, data, userpwd_);
  return ExpectStatus(put, 201, "upload blob");
}

Result<void> RegistryProcess::PushManifest(const std::string& name, const std::string& tag,
                                           const std::string& media_type,
                                           const std::string& body) const {
  auto put = TestHttp("PUT", url() + "/v2/" + name + "/manifests/" + tag,
                      {"Content-Type: " + media_type}, body, userpwd_);
  return ExpectStatus(put, 201, "put manifest " + tag);
}

FakeHttpServer::FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      listen(listen_fd_, 16) == 0 &&
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port_ = ntohs(addr.sin_port);
  }
  thread_ = std::thread([this] { Serve(); });
}

FakeHttpServer::~FakeHttpServer() {
  stopping_ = true;
  // Wakes the blocked accept().
  shutdown(listen_fd_, SHUT_RDWR);
  thread_.join();
  close(listen_fd_);
}

std::vector<FakeRequest> FakeHttpServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

int FakeHttpServer::CountRequests(const std::string& prefix) const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& r : requests_) n += r.target.starts_with(prefix) ? 1 : 0;
  return n;
}

void FakeHttpServer::Serve() {
  while (!stopping_) {
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) {
      if (stopping_ || errno != EINTR) return;
      continue;
    }
    ServeConnection(fd);
    close(fd);
  }
}

void FakeHttpServer::ServeConnection(int fd) {
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string in;
  char buf[4096];
  while (in.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    in.append(buf, static_cast<size_t>(n));
    // A TLS ClientHello (an https probe) is not HTTP: hang up, as a plain server would.
    if (!std::isupper(static_cast<unsigned char>(in[0]))) return;
  }
  FakeRequest request;
  size_t line_end = in.find("\r\n");
  std::string request_line = in.substr(0, line_end);
  size_t sp1 = request_line.find(' ');
  size_t sp2 = request_line.find(' ', sp1 + 1);
  request.method = request_line.substr(0, sp1);
  request.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (size_t pos = line_end + 2; pos < in.size();) {
    size_t end = in.find("\r\n", pos);
    if (end == std::string::npos || end == pos) break;
    std::string line = in.substr(pos, end - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t value = line.find_first_not_of(' ', colon + 1);
      request.headers[name] = value == std::string::npos ? "" : line.substr(value);
    }
    pos = end + 2;
  }
  const size_t body_at = in.find("\r\n\r\n") + 4;
  const size_t length = std::strtoull(request.Header("content-length").c_str(), nullptr, 10);
  while (in.size() < body_at + length) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    in.append(buf, static_cast<size_t>(n));
  }
  request.body = in.substr(body_at, length);
  {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
  }
  FakeResponse response = handler_(request);
  std::string out =
      "HTTP/1.1 " + std::to_string(response.status) + " " + ReasonPhrase(response.status) + "\r\n";
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  out += "Connection: close\r\n\r\n";
  std::string body = request.method == "HEAD" ? "" : response.body.substr(0, response.cut_after);
  if (response.drip_ms <= 0) out += body;
  if (!SendAll(fd, out)) return;
  if (response.drip_ms <= 0) return;
  for (char c : body) {
    std::this_thread::sleep_for(std::chrono::milliseconds(response.drip_ms));
    if (stopping_ || !SendAll(fd, std::string_view(&c, 1))) return;
  }
}

void StallOnFakeClock::Stall() {
  clock_.Advance(advance_);
  std::unique_lock lock(mu_);
  released_cv_.wait_for(lock, std::chrono::seconds(10), [this] { return released_; });
}

void StallOnFakeClock::Release() {
  {
    std::lock_guard lock(mu_);
    released_ = true;
  }
  released_cv_.notify_all();
}

}  // namespace wharf::registry::testing
