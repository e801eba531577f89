#include "wharf/service/auth.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <semaphore>
#include <utility>

#include "wharf/base/digest.h"
#include "wharf/base/file_util.h"

namespace wharf::service {

namespace {

std::string HashId(const std::string& id) { return Digest::Of(id).hex(); }

// An argon2id hash takes crypto_pwhash_MEMLIMIT_INTERACTIVE (64 MiB) while it runs: at most
// this many run at once, so that a burst of logins waits its turn instead of taking gigabytes.
constexpr int kConcurrentHashes = 2;
std::counting_semaphore<kConcurrentHashes> hash_slots(kConcurrentHashes);

class HashSlot {
 public:
  HashSlot() { hash_slots.acquire(); }
  ~HashSlot() { hash_slots.release(); }
  HashSlot(const HashSlot&) = delete;
  HashSlot& operator=(const HashSlot&) = delete;
};

Result<std::string> HashPassword(const std::string& password) {
  HashSlot slot;
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Internal("out of memory hashing a password");
  }
  return std::string(out);
}

}  // namespace

Auth::Auth(metadata::UserStore& metadata, int64_t session_ttl_s, PasswordVerifier verify,
           Clock& clock)
    : metadata_(metadata), ttl_s_(session_ttl_s), verify_(std::move(verify)), clock_(clock) {
  if (sodium_init() < 0) std::abort();  // libsodium cannot run without a random source
  if (!verify_) {
    verify_ = [](const std::string& hash, const std::string& password) {
      return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
    };
  }
}

// A hash of a random password nobody knows, made like every real one (HashPassword).
Result<std::string> Auth::DummyHash() {
  std::lock_guard lock(dummy_mu_);
  if (dummy_hash_.empty()) {
    WHARF_ASSIGN_OR_RETURN(dummy_hash_, HashPassword(RandomHex(16)));
  }
  return dummy_hash_;
}

bool Auth::Verify(const std::string& hash, const std::string& password) {
  HashSlot slot;
  return verify_(hash, password);
}

Result<void> Auth::SetUser(const std::string& username, const std::string& password,
                           bool is_admin) {
  if (username.empty() || password.empty()) {
    return InvalidArgument("username and password must not be empty");
  }
  WHARF_ASSIGN_OR_RETURN(auto hash, HashPassword(password));
  return metadata_.PutUser({username, hash, is_admin});
}

Result<void> Auth::ChangePassword(const std::string& username, const std::string& password) {
  auto user = metadata_.GetUser(username);
  if (!user) return Error(user.error());
  if (!*user) return NotFound("no user " + username);
  WHARF_RETURN_IF_ERROR(SetUser(username, password, (*user)->is_admin));
  return metadata_.DeleteSessionsOf(username);
}

Result<void> Auth::RemoveUser(const std::string& username) {
  WHARF_ASSIGN_OR_RETURN(auto outcome, metadata_.DeleteUserIf(username, /*keep_an_admin=*/true));
  switch (outcome) {
    case metadata::UserStore::RemoveOutcome::kRemoved:
      return {};
    case metadata::UserStore::RemoveOutcome::kNoSuchUser:
      return NotFound("no user " + username);
    case metadata::UserStore::RemoveOutcome::kLastAdmin:
      break;
  }
  return Conflict("cannot remove " + username + ": it is the last admin");
}

Result<std::vector<Auth::UserView>> Auth::ListUsers() {
  WHARF_ASSIGN_OR_RETURN(auto all, metadata_.ListUsers());
  std::vector<UserView> out;
  for (const auto& u : all) out.push_back({u.username, u.is_admin});
  return out;
}

Result<void> Auth::CheckPassword(const std::string& password) {
  if (password.size() < 8 || password.size() > 1024) {
    return InvalidArgument("password: it must have 8 to 1024 characters");
  }
  return {};
}

Result<void> Auth::AddUser(const std::string& username, const std::string& password,
                           bool is_admin) {
  const bool name_ok =
      !username.empty() && username.size() <= 64 && std::ranges::all_of(username, [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
      });
  if (!name_ok) {
    return InvalidArgument("username: 1 to 64 of the characters A-Z a-z 0-9 . _ -");
  }
  WHARF_RETURN_IF_ERROR(CheckPassword(password));
  WHARF_ASSIGN_OR_RETURN(auto hash, HashPassword(password));
  WHARF_ASSIGN_OR_RETURN(bool inserted, metadata_.InsertUser({username, hash, is_admin}));
  if (!inserted) return Conflict("user " + username + " exists already");
  return {};
}

Result<void> Auth::ChangeOwnPassword(const std::string& username, const std::string& current,
                                     const std::string& password) {
  WHARF_RETURN_IF_ERROR(CheckPassword(password));
  if (auto checked = Authenticate(username, current); !checked) {
    return Unauthenticated("the current password is wrong");
  }
  return ChangePassword(username, password);
}

Result<std::string> Auth::EnsureAdmin(const std::string& password) {
  WHARF_ASSIGN_OR_RETURN(auto count, metadata_.CountUsers());
  if (count > 0) return std::string();
  std::string chosen = password.empty() ? RandomHex(12) : password;
  WHARF_RETURN_IF_ERROR(SetUser("admin", chosen, true));
  return password.empty() ? chosen : std::string();
}

Result<Session> Auth::Authenticate(const std::string& username, const std::string& password) {
  // Made on the first login, whichever path it takes, so that neither pays for it alone.
  WHARF_ASSIGN_OR_RETURN(auto dummy, DummyHash());
  auto user = metadata_.GetUser(username);
  if (!user) return Error(user.error());
  // An unknown name is verified too, against the dummy: the same work, the same answer.
  const bool valid = Verify(*user ? (*user)->password_hash : dummy, password);
  if (!valid || !*user) return Unauthenticated("invalid username or password");
  return Session{"", username, (*user)->is_admin, clock_.NowSeconds()};
}

Result<Session> Auth::Login(const std::string& username, const std::string& password) {
  auto s = Authenticate(username, password);
  if (!s) return s;
  s->id = RandomHex(32);
  WHARF_RETURN_IF_ERROR(
      metadata_.PutSession({HashId(s->id), username, s->created_at, s->created_at + ttl_s_}));
  return s;
}

Result<Session> Auth::Check(const std::string& session_id) {
  if (session_id.size() != 64) return Unauthenticated("login required");
  auto rec = metadata_.GetSession(HashId(session_id));
  if (!rec) return Error(rec.error());
  // One query (and one turn of the store's lock) per request: the session with its user.
  if (!*rec || (*rec)->expires_at <= clock_.NowSeconds()) return Unauthenticated("login required");
  return Session{session_id, (*rec)->username, (*rec)->is_admin, (*rec)->created_at};
}

Result<void> Auth::Logout(const std::string& session_id) {
  return metadata_.DeleteSession(HashId(session_id));
}

}  // namespace wharf::service
