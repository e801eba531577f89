#include "wharf/cli/commands.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <iterator>

#include "wharf/cli/image_arg.h"
#include "wharf/cli/listing_tables.h"
#include "wharf/cli/terminal.h"

namespace wharf::cli {

namespace {

Result<std::string> ChooseServer(const SessionStore& store, const std::string& flag) {
  if (!flag.empty()) return NormalizeServerUrl(flag);
  if (const char* env = std::getenv("WHARF_SERVER"); env != nullptr && *env != '\0') {
    return NormalizeServerUrl(env);
  }
  if (auto saved = store.LastServer()) return *saved;
  return std::string(kDefaultServer);
}

Result<std::string> ReadPassword(bool from_stdin) {
  if (!from_stdin) {
    auto password = AskTerminal("Password: ", true);
    if (!password && password.error().code == Code::kUnavailable) {
      return InvalidArgument("no terminal to ask for the password on; use --password-stdin");
    }
    return password;
  }
  std::string password(std::istreambuf_iterator<char>(std::cin), {});
  if (password.ends_with('\n')) password.pop_back();
  if (password.ends_with('\r')) password.pop_back();
  return password;
}

void PrintTable(const Table& table) { std::fputs(table.Render().c_str(), stdout); }

}  // namespace

void PrintJson(const nlohmann::json& j, int indent) {
  std::string text = j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
  std::printf("%s\n", text.c_str());
}

Result<void> ShowAnswer(const ApiClient& api, const std::string& path, bool json,
                        Table (*table)(const nlohmann::json&)) {
  WHARF_ASSIGN_OR_RETURN(auto answer, api.Get(path));
  if (json) {
    PrintJson(answer);
  } else {
    PrintTable(table(answer));
  }
  return {};
}

void PrintDone(const nlohmann::json& answer, bool json, const std::string& line) {
  if (json) {
    PrintJson(answer);
  } else {
    std::printf("%s\n", line.c_str());
  }
}

Result<void> ReportFailures(const std::vector<Status>& failures) {
  if (failures.empty()) return {};
  for (size_t i = 0; i + 1 < failures.size(); ++i) {
    std::fprintf(stderr, "wharf: %s\n", failures[i].message.c_str());
  }
  return Error(failures.back());
}

Result<void> Login(const SessionStore& store, const LoginOptions& o) {
  WHARF_ASSIGN_OR_RETURN(auto server, ChooseServer(store, o.server));
  InterruptCatcher catcher;  // Ctrl-C at a prompt must not leave the terminal without echo
  std::string username = o.username;
  if (username.empty()) {
    if (o.password_stdin) return InvalidArgument("--password-stdin needs the user name: -u USER");
    auto asked = AskTerminal("Username: ", false);
    if (!asked && asked.error().code == Code::kUnavailable) {
      return InvalidArgument("no terminal to ask for the user name on; use -u USER");
    }
    if (!asked) return Error(asked.error());
    username = *asked;
    if (username.empty()) return InvalidArgument("a user name is required");
  }
  WHARF_ASSIGN_OR_RETURN(auto password, ReadPassword(o.password_stdin));
  if (password.empty()) return InvalidArgument("the password is empty");

  ApiClient api({.server = server, .cookie = "", .user_agent = o.user_agent});
  WHARF_ASSIGN_OR_RETURN(auto reply, api.Login(username, password));
  Session session{server, reply.cookie, StringField(reply.body, "username"),
                  StringField(reply.body, "logintime")};
  if (session.username.empty()) session.username = username;
  WHARF_RETURN_IF_ERROR(store.Save(session));
  if (o.json) {
    PrintJson(reply.body);
  } else {
    std::printf("Login Succeeded (%s at %s)\n", session.username.c_str(), server.c_str());
  }
  return {};
}

Result<void> Logout(const SessionStore& store, const std::string& user_agent, bool json) {
  auto session = store.Load();
  if (!session) {
    if (session.error().code != Code::kUnauthenticated) return Error(session.error());
    if (json) {
      PrintJson(nlohmann::json::object());
    } else {
      std::printf("Not logged in\n");
    }
    return {};
  }
  ApiClient api({.server = session->server, .cookie = session->cookie, .user_agent = user_agent});
  auto reply = api.Call("PUT", "/api/v1/logout");
  WHARF_RETURN_IF_ERROR(store.Forget());
  if (!reply && reply.error().code != Code::kUnauthenticated) {
    std::fprintf(stderr, "wharf: warning: the session was forgotten here but not ended at %s: %s\n",
                 session->server.c_str(), reply.error().message.c_str());
  }
  if (json) {
    PrintJson(reply ? *reply : nlohmann::json::object());
  } else {
    std::printf("Logged out of %s\n", session->server.c_str());
  }
  return {};
}

Result<void> ListImages(const ApiClient& api, const ListOptions& o) {
  std::string path = "/api/v1/image/?from=" + EscapeQuery(o.from);
  if (!o.type.empty()) path += "&type=" + EscapeQuery(o.type);
  if (!o.text.empty()) path += "&filter_text=" + EscapeQuery(o.text);
  auto listing = api.Get(path);
  if (!listing) return Error(listing.error());
  if (o.json) {
    PrintJson(*listing);
    return {};
  }
  // Fitted to a terminal only: a script reading the output gets whole rows, as before.
  size_t width = !o.no_trunc && IsTerminal(STDOUT_FILENO)
                     ? static_cast<size_t>(std::max(TerminalWidth(STDOUT_FILENO), 20))
                     : 0;
  Table table = o.from == "local"
                    ? LocalImagesTable(*listing, {o.no_trunc, o.digests, std::time(nullptr)})
                    : SearchTable(*listing, o.no_trunc);
  std::fputs(table.Render(width).c_str(), stdout);
  return {};
}

Result<void> ShowTags(const ApiClient& api, const std::string& name, bool official, bool json) {
  WHARF_ASSIGN_OR_RETURN(auto arg, ParseImageArg(name));
  if (!arg.tag.empty()) return InvalidArgument("give a name without a tag: \"" + name + "\"");
  std::string path = "/api/v1/image/dockerhub/docker/" + std::string(official ? "1" : "0") + "/" +
                     EscapePath(arg.name) + "/tags";
  auto tags = api.Get(path);
  if (!tags) return Error(tags.error());
  if (json) {
    PrintJson(*tags);
  } else {
    PrintTable(TagsTable(*tags));
  }
  return {};
}

Result<void> ShowDownloads(const ApiClient& api, bool json) {
  auto jobs = api.Get("/api/v1/image/downloadstatus");
  if (!jobs) return Error(jobs.error());
  if (json) {
    PrintJson(*jobs);
  } else {
    PrintTable(DownloadsTable(*jobs));
  }
  return {};
}

Result<void> RemoveImages(const ApiClient& api, const std::vector<std::string>& images,
                          const RemoveOptions& o) {
  std::vector<Status> failures;
  for (const auto& image : images) {
    auto arg = ParseImageArg(image);
    if (arg && o.all_tags && !arg->tag.empty()) {
      arg = InvalidArgument("--all-tags takes a NAME without a tag: \"" + image + "\"");
    }
    if (!arg) {
      failures.push_back(arg.error());
      continue;
    }
    std::string tag = arg->tag;
    if (tag.empty() && !o.all_tags && o.type == "docker") tag = "latest";
    std::string path = "/api/v1/image/local/" + o.type + "/" + EscapePath(arg->name);
    if (!tag.empty()) path += ":" + EscapePath(tag);
    auto deleted = api.Call("DELETE", path);
    if (!deleted) {
      failures.push_back(deleted.error());
      continue;
    }
    if (o.json) {
      PrintJson(*deleted, -1);
    } else {
      std::printf("Deleted: %s\n", tag.empty() ? image.c_str() : (arg->name + ":" + tag).c_str());
    }
  }
  return ReportFailures(failures);
}

}  // namespace wharf::cli
