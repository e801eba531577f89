// The login session the CLI keeps between commands: which wharfd, and the cookie it issued.
// It lives in $XDG_CONFIG_HOME/wharf/session (default ~/.config/wharf/session), a JSON file
// of mode 0600 in a directory of mode 0700, because the cookie is as good as the password
// until the session expires. It is written atomically (temp file, fsync, rename), so a crash
// never leaves half a session.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "wharf/base/status.h"

namespace wharf::cli {

struct Session {
  std::string server;  // base URL, "http://127.0.0.1:8080"
  std::string cookie;  // "name=value" pairs as the server set them, for the Cookie header
  std::string username;
  std::string logintime;  // as the server reported it
};

// Where the session file lives given $XDG_CONFIG_HOME and $HOME (either may be empty; a
// relative XDG_CONFIG_HOME is ignored, as the XDG spec says). InvalidArgument when neither
// gives a place.
Result<std::filesystem::path> SessionPathFor(std::string_view xdg_config_home,
                                             std::string_view home);
// The same from the process environment.
Result<std::filesystem::path> DefaultSessionPath();

class SessionStore {
 public:
  explicit SessionStore(std::filesystem::path path) : path_(std::move(path)) {}

  const std::filesystem::path& path() const { return path_; }
  // Unauthenticated "not logged in" when there is no file or it holds no cookie (after a
  // logout); InvalidArgument when it does not parse (naming the file).
  Result<Session> Load() const;
  // The server of the file, also after a logout, so the next login goes to it; nullopt
  // when there is no readable file.
  std::optional<std::string> LastServer() const;
  // Logs out locally: drops the cookie and the user but keeps the server (atomically, as
  // Save); a damaged file is removed.
  Result<void> Forget() const;
  // Creates the directory (0700) if needed and replaces the file (0600) atomically.
  Result<void> Save(const Session& session) const;
  // Removes the file; true when there was one.
  Result<bool> Remove() const;

 private:
  std::filesystem::path path_;
};

}  // namespace wharf::cli
