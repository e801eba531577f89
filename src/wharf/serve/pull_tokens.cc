#include "wharf/serve/pull_tokens.h"

#include <sodium.h>

#include "wharf/base/digest.h"

namespace wharf::serve {

namespace {

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                 raw.size());
  hex.pop_back();
  return hex;
}

std::string HashOf(std::string_view text) { return Digest::Of(text).hex(); }

}  // namespace

PullTokens::PullTokens(Clock& clock, int64_t ttl_s, size_t max_tokens)
    : clock_(clock), ttl_s_(ttl_s), max_tokens_(std::max<size_t>(max_tokens, 1)) {}

void PullTokens::MakeRoom(int64_t now) {
  std::erase_if(tokens_, [now](const auto& kv) { return kv.second.expires_at <= now; });
  while (tokens_.size() >= max_tokens_) {
    auto oldest = tokens_.begin();
    for (auto it = tokens_.begin(); it != tokens_.end(); ++it) {
      if (it->second.expires_at < oldest->second.expires_at) oldest = it;
    }
    tokens_.erase(oldest);
  }
}

PullTokens::Issued PullTokens::Issue(PullGrant grant) {
  const int64_t now = clock_.NowSeconds();
  Issued issued{RandomHex(32), ttl_s_, now};
  std::lock_guard lock(mu_);
  if (tokens_.size() >= max_tokens_) MakeRoom(now);
  tokens_[HashOf(issued.token)] = Entry{std::move(grant), now + ttl_s_};
  return issued;
}

Result<PullGrant> PullTokens::Check(const std::string& token) {
  if (token.size() != 64) return Unauthenticated("invalid token");
  const int64_t now = clock_.NowSeconds();
  std::lock_guard lock(mu_);
  auto it = tokens_.find(HashOf(token));
  if (it == tokens_.end()) return Unauthenticated("invalid token");
  if (it->second.expires_at <= now) {
    tokens_.erase(it);
    return Unauthenticated("token expired");
  }
  return it->second.grant;
}

CredentialCache::CredentialCache(Clock& clock, int64_t ttl_s, size_t max_entries)
    : clock_(clock),
      ttl_s_(ttl_s),
      max_entries_(std::max<size_t>(max_entries, 1)),
      salt_(RandomHex(32)) {}

std::string CredentialCache::Key(const std::string& username, const std::string& password) const {
  std::string text = salt_;
  text += username;
  text.push_back('\0');
  text += password;
  return HashOf(text);
}

bool CredentialCache::Known(const std::string& username, const std::string& password) {
  const std::string key = Key(username, password);
  const int64_t now = clock_.NowSeconds();
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  return it != entries_.end() && it->second > now;
}

void CredentialCache::Remember(const std::string& username, const std::string& password) {
  const std::string key = Key(username, password);
  const int64_t now = clock_.NowSeconds();
  std::lock_guard lock(mu_);
  if (entries_.size() >= max_entries_) {
    std::erase_if(entries_, [now](const auto& kv) { return kv.second <= now; });
    if (entries_.size() >= max_entries_) entries_.clear();  // a flood of pairs: start over
  }
  entries_[key] = now + ttl_s_;
}

bool ParsePullScope(const std::string& scope, std::string& name) {
  constexpr std::string_view kPrefix = "repository:";
  if (!scope.starts_with(kPrefix)) return false;
  const size_t actions = scope.rfind(':');
  if (actions < kPrefix.size()) return false;
  name = scope.substr(kPrefix.size(), actions - kPrefix.size());
  std::string_view list = std::string_view(scope).substr(actions + 1);
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (list.substr(0, comma) == "pull" || list.substr(0, comma) == "*") return !name.empty();
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace wharf::serve
