#include "wharf/registry/registry_errors.h"

#include <nlohmann/json.hpp>

namespace wharf::registry {

namespace {

bool IsNotFoundCode(std::string_view code) {
  return code == "MANIFEST_UNKNOWN" || code == "NAME_UNKNOWN" || code == "BLOB_UNKNOWN";
}

// Registry error codes in the body, if it is the JSON errors document.
bool HasNotFoundCode(std::string_view body) {
  try {
    auto doc = nlohmann::json::parse(body);
    if (!doc.is_object() || !doc.contains("errors") || !doc["errors"].is_array()) return false;
    for (const auto& e : doc["errors"]) {
      if (e.is_object() && IsNotFoundCode(e.value("code", ""))) return true;
    }
  } catch (const nlohmann::json::exception&) {
  }
  return false;
}

// The path of a URL, without the query: a presigned blob URL's query is a credential.
std::string_view PathOf(std::string_view url) {
  size_t scheme_end = url.find("://");
  size_t path = url.find('/', scheme_end == std::string_view::npos ? 0 : scheme_end + 3);
  if (path == std::string_view::npos) return "/";
  std::string_view rest = url.substr(path);
  return rest.substr(0, rest.find_first_of("?#"));
}

std::string PlainTextExcerpt(std::string_view body) {
  constexpr size_t kMax = 200;
  std::string out;
  for (char c : body.substr(0, kMax)) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u == '\n' || u == '\r' || u == '\t') {
      c = ' ';
    } else if (u < 0x20 || u == 0x7f) {
      return "";  // binary: nothing a person can read
    }
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  while (!out.empty() && out.front() == ' ') out.erase(0, 1);
  if (body.size() > kMax && !out.empty()) out += "...";
  return out;
}

// The start of a body, past white space: what tells a manifest ('{') from a web page ('<').
char FirstByte(std::string_view body) {
  size_t at = body.find_first_not_of(" \t\r\n");
  return at == std::string_view::npos ? '\0' : body[at];
}

}  // namespace

Result<void> CheckManifestAnswer(std::string_view peer, const Subject& subject,
                                 std::string_view media_type, std::string_view body, bool head) {
  const bool html = media_type == "text/html" || media_type == "application/xhtml+xml" ||
                    (!head && FirstByte(body) == '<');
  if (!html && (head || FirstByte(body) == '{')) return {};
  std::string type = media_type.empty() ? "none" : std::string(media_type.substr(0, 100));
  return Unavailable(std::string(peer) + (html ? " answered an HTML page" : " answered a body") +
                     " (Content-Type " + type + ") that is not a manifest, for " + subject.noun +
                     " of " + subject.name);
}

std::string DescribeRegistryError(std::string_view body) {
  try {
    auto doc = nlohmann::json::parse(body);
    if (doc.is_object()) {
      std::string out;
      if (doc.contains("errors") && doc["errors"].is_array()) {
        for (const auto& e : doc["errors"]) {
          if (!e.is_object()) continue;
          std::string code = e.value("code", "");
          std::string message = e.value("message", "");
          if (!out.empty()) out += "; ";
          out += code.empty() ? message : message.empty() ? code : code + ": " + message;
        }
      }
      if (out.empty() && doc.contains("details") && doc["details"].is_string()) {
        out = doc["details"].get<std::string>();
      }
      return out;
    }
  } catch (const nlohmann::json::exception&) {
    // Not JSON: not a registry's error.
  }
  return "";
}

std::string DescribeErrorBody(std::string_view body) {
  std::string details = DescribeRegistryError(body);
  return details.empty() ? PlainTextExcerpt(body) : details;
}

Status StatusForResponse(const HttpResponse& response, std::string_view peer,
                         const Subject& subject) {
  std::string details = DescribeRegistryError(response.body);
  std::string suffix = details.empty() ? "" : ": " + details;
  if (response.status == 404 || HasNotFoundCode(response.body)) {
    return Status{Code::kNotFound, subject.noun + " not found in " + subject.name + suffix};
  }
  std::string exchange = response.method + " " + std::string(PathOf(response.url)) + ": " +
                         response.StatusText() + suffix;
  switch (response.status) {
    case 401:
      return Status{Code::kUnauthenticated,
                    std::string(peer) + ": authentication refused: " + exchange};
    case 403:
      return Status{Code::kPermissionDenied, std::string(peer) + ": " + exchange};
    default:
      return Status{Code::kUnavailable, std::string(peer) + ": " + exchange};
  }
}

std::string FormatSize(size_t bytes) {
  if (bytes >= (1 << 20) && bytes % (1 << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= (1 << 10) && bytes % (1 << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

Status CancelledWhile(std::string_view what, std::string_view peer, const Status& stop) {
  std::string message =
      "cancelled while fetching " + std::string(what) + " from " + std::string(peer);
  if (stop.message != std::string(peer) + ": transfer cancelled") {
    message += " (" + stop.message + ")";
  }
  return Status{Code::kCancelled, std::move(message)};
}

}  // namespace wharf::registry
