#include "wharf/api/http_message.h"

#include <algorithm>

#include "wharf/base/strings.h"

namespace wharf::api {

namespace {

const std::string* Find(const Fields& fields, std::string_view name, bool any_case) {
  for (const auto& [key, value] : fields) {
    if (any_case ? EqualsIgnoreCase(key, name) : key == name) return &value;
  }
  return nullptr;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    int v = Base64Value(c);
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return out;
}

std::optional<uint64_t> ParseNumber(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

}  // namespace

std::optional<std::pair<std::string, std::string>> BasicCredentials(std::string_view header) {
  header = Trim(header);
  if (header.size() < 6 || !EqualsIgnoreCase(header.substr(0, 6), "basic ")) return std::nullopt;
  auto decoded = Base64Decode(Trim(header.substr(6)));
  if (!decoded) return std::nullopt;
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::pair{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

std::string BearerToken(std::string_view header) {
  header = Trim(header);
  if (header.size() < 7 || !EqualsIgnoreCase(header.substr(0, 7), "bearer ")) return "";
  return std::string(Trim(header.substr(7)));
}

ByteRange ParseRange(std::string_view header, uint64_t size) {
  header = Trim(header);
  if (!header.starts_with("bytes=") || header.find(',') != std::string_view::npos) return {};
  std::string_view spec = Trim(header.substr(6));
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return {};
  auto first = ParseNumber(Trim(spec.substr(0, dash)));
  auto last = ParseNumber(Trim(spec.substr(dash + 1)));
  if (!first && !last) return {};
  if (!first) {  // a suffix: the last N bytes
    if (*last == 0 || size == 0) return {ByteRange::kUnsatisfiable};
    const uint64_t n = std::min(*last, size);
    return {ByteRange::kPart, size - n, n};
  }
  if (last && *last < *first) return {};
  if (*first >= size) return {ByteRange::kUnsatisfiable};
  const uint64_t end = last ? std::min(*last, size - 1) : size - 1;
  return {ByteRange::kPart, *first, end - *first + 1};
}

bool HttpRequest::Abandoned() const {
  return client_gone->load() || (server_stopping != nullptr && server_stopping->load());
}

const std::string* HttpRequest::Header(std::string_view name) const {
  return Find(headers, name, true);
}

std::string HttpRequest::HeaderOr(std::string_view name, std::string fallback) const {
  const std::string* value = Header(name);
  return value ? *value : std::move(fallback);
}

bool HttpRequest::HasParam(std::string_view name) const {
  return Find(params, name, false) != nullptr;
}

std::string HttpRequest::Param(std::string_view name) const {
  const std::string* value = Find(params, name, false);
  return value ? *value : std::string();
}

uint64_t PartsBody::Length() const {
  uint64_t total = 0;
  for (const BodyPart& part : parts) total += part.fd >= 0 ? part.length : part.bytes.size();
  return total;
}

void HttpResponse::SetBody(std::string text, std::string type) {
  body = std::make_shared<const std::string>(std::move(text));
  content_type = std::move(type);
}

void HttpResponse::AddHeader(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
}

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int hi = HexValue(text[i + 1]);
      int lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

Fields ParseQuery(std::string_view query) {
  Fields out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string_view name = part.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    out.emplace_back(PercentDecode(name, true), PercentDecode(value, true));
  }
  return out;
}

void ParseTarget(std::string_view target, std::string& path, Fields& params) {
  size_t question = target.find('?');
  path = PercentDecode(target.substr(0, question), false);
  params = question == std::string_view::npos ? Fields() : ParseQuery(target.substr(question + 1));
}

std::string CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!part.empty() && (part.front() == ' ' || part.front() == '\t')) part.remove_prefix(1);
    if (part.size() > name.size() && part.starts_with(name) && part[name.size()] == '=') {
      return std::string(part.substr(name.size() + 1));
    }
  }
  return {};
}

}  // namespace wharf::api
