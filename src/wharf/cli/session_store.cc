#include "wharf/cli/session_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "wharf/base/file_util.h"

namespace wharf::cli {

namespace fs = std::filesystem;

Result<fs::path> SessionPathFor(std::string_view xdg_config_home, std::string_view home) {
  if (!xdg_config_home.empty() && xdg_config_home.front() == '/') {
    return fs::path(xdg_config_home) / "wharf" / "session";
  }
  if (!home.empty()) return fs::path(home) / ".config" / "wharf" / "session";
  return InvalidArgument("cannot tell where to keep the session: set HOME or XDG_CONFIG_HOME");
}

Result<fs::path> DefaultSessionPath() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  return SessionPathFor(xdg ? xdg : "", home ? home : "");
}

namespace {

Result<Session> ReadSession(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Unauthenticated("not logged in; run `wharf login` first");
  WHARF_ASSIGN_OR_RETURN(auto text, ReadFile(path, 1 << 20));
  auto j = nlohmann::json::parse(text, nullptr, false);
  auto str = [&](const char* key) -> std::string {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (!j.is_object() || str("server").empty()) {
    return InvalidArgument("the session file " + path.string() +
                           " is damaged; run `wharf login` again");
  }
  return Session{str("server"), str("cookie"), str("username"), str("logintime")};
}

}  // namespace

Result<Session> SessionStore::Load() const {
  WHARF_ASSIGN_OR_RETURN(auto session, ReadSession(path_));
  if (session.cookie.empty()) return Unauthenticated("not logged in; run `wharf login` first");
  return session;
}

std::optional<std::string> SessionStore::LastServer() const {
  auto session = ReadSession(path_);
  if (!session) return std::nullopt;
  return session->server;
}

Result<void> SessionStore::Forget() const {
  auto session = ReadSession(path_);
  if (!session) {
    WHARF_RETURN_IF_ERROR(Remove());
    return {};
  }
  return Save({session->server, "", "", ""});
}

Result<void> SessionStore::Save(const Session& session) const {
  fs::path dir = path_.parent_path();
  WHARF_RETURN_IF_ERROR(MakeDirs(dir.parent_path()));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoError("mkdir " + dir.string(), errno);
  }
  nlohmann::json j = {{"server", session.server},
                      {"cookie", session.cookie},
                      {"username", session.username},
                      {"logintime", session.logintime}};
  // The temp file is created with mode 0600, so the cookie is never readable by others,
  // not even for a moment (a umask can only take bits away).
  return WriteFileAtomic(path_, j.dump(2) + "\n", 0600);
}

Result<bool> SessionStore::Remove() const {
  if (::unlink(path_.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  return ErrnoError("remove " + path_.string(), errno);
}

}  // namespace wharf::cli
