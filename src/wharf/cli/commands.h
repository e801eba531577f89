// The commands of `wharf` other than pull, each printing its result on stdout (a table or
// text, or with `json` the API's JSON) and returning its error for Main to report.
#pragma once

#include <string>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/cli/api_client.h"
#include "wharf/cli/session_store.h"
#include "wharf/cli/table.h"

namespace wharf::cli {

inline constexpr std::string_view kDefaultServer = "http://127.0.0.1:8080";

struct LoginOptions {
  std::string server;    // empty: $WHARF_SERVER, else the saved session's, else the default
  std::string username;  // empty: asked on the terminal
  bool password_stdin = false;
  bool json = false;
  std::string user_agent;
};

// Logs in and saves the session. The password is read from stdin (up to its end, one
// trailing newline dropped) or asked on the terminal without echo.
Result<void> Login(const SessionStore& store, const LoginOptions& options);
// Ends the session on the server and forgets the saved cookie (even when the server cannot be
// reached or the session already expired: the local copy is useless then); the server is
// kept for the next login.
Result<void> Logout(const SessionStore& store, const std::string& user_agent, bool json);

struct ListOptions {
  std::string from;  // depot; "local" for ls
  std::string type;  // "", "docker" or "lxc"
  std::string text;  // filter_text
  bool no_trunc = false;
  bool json = false;
  bool digests = false;  // ls: a DIGEST column
};
Result<void> ListImages(const ApiClient& api, const ListOptions& options);  // ls and search

Result<void> ShowTags(const ApiClient& api, const std::string& name, bool official, bool json);
Result<void> ShowDownloads(const ApiClient& api, bool json);
struct RemoveOptions {
  std::string type;       // "docker" or "lxc"
  bool all_tags = false;  // NAME means every tag (LXC: always, builds have no "latest")
  bool json = false;
};
// Deletes each NAME:TAG; a Docker NAME is NAME:latest, as `docker rmi` takes it, unless
// `all_tags` (then a NAME:TAG is InvalidArgument). Goes on after a failure, reports every
// failure but the last on stderr and returns the last.
Result<void> RemoveImages(const ApiClient& api, const std::vector<std::string>& images,
                          const RemoveOptions& options);

// Prints JSON on stdout, indented, invalid UTF-8 replaced rather than fatal.
void PrintJson(const nlohmann::json& j, int indent = 2);
// GETs `path` and prints the answer: its JSON with `json`, else `table` of it.
Result<void> ShowAnswer(const ApiClient& api, const std::string& path, bool json,
                        Table (*table)(const nlohmann::json&));
// What a done write prints: the API's answer with `json`, else `line`.
void PrintDone(const nlohmann::json& answer, bool json, const std::string& line);
// For a command that goes on after a failure: OK when there was none, else every failure
// but the last reported on stderr ("wharf: ...") and the last returned, for Main to report.
Result<void> ReportFailures(const std::vector<Status>& failures);

}  // namespace wharf::cli
