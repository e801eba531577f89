#include "wharf/cli/cli.h"

#include <curl/curl.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>

#include "wharf/cli/cli_docs.h"
#include "wharf/cli/command_table.h"
#include "wharf/cli/commands.h"
#include "wharf/cli/exit_code.h"
#include "wharf/cli/image_arg.h"
#include "wharf/cli/inspect.h"
#include "wharf/cli/load.h"
#include "wharf/cli/pull.h"
#include "wharf/cli/registries.h"
#include "wharf/cli/save.h"
#include "wharf/cli/settings.h"
#include "wharf/cli/update.h"

namespace wharf::cli {

namespace {

int Report(const Status& error) {
  std::string message = error.message;
  if (error.code == Code::kUnauthenticated && message.find("wharf login") == std::string::npos) {
    message += " (run `wharf login`)";
  }
  std::fprintf(stderr, "wharf: %s\n", message.c_str());
  return ExitCodeFor(error.code);
}

// An API client for the saved session.
Result<ApiClient> SessionClient(const SessionStore& store, const std::string& user_agent) {
  WHARF_ASSIGN_OR_RETURN(auto session, store.Load());
  return ApiClient({.server = session.server, .cookie = session.cookie, .user_agent = user_agent});
}

Result<void> RunPull(const ApiClient& api, const Flags& f) {
  WHARF_ASSIGN_OR_RETURN(auto arg, ParseImageRef(f.image));
  PullRequest r;
  r.type = f.type.empty() ? "docker" : f.type;
  r.from = !f.from.empty() ? f.from : (r.type == "lxc" ? "appcenter" : "dockerhub");
  r.name = arg.name;
  r.tag = TagOrDigest(arg);
  r.json = f.json;
  WHARF_RETURN_IF_ERROR(Pull(api, r));
  return {};
}

// The deepest command the parser entered, and its words ("wharf registry").
std::pair<const CLI::App*, std::string> DeepestCommand(const CLI::App& app) {
  const CLI::App* at = &app;
  std::string path = app.get_name();
  for (;;) {
    auto parsed = at->get_subcommands([](const CLI::App* s) { return s->parsed(); });
    if (parsed.empty()) return {at, path};
    at = parsed.front();
    path += " " + at->get_name();
  }
}

std::string CommandList(const CLI::App& app) {
  std::string out;
  for (const auto* sub :
       app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); })) {
    out += (out.empty() ? "" : ", ") + sub->get_name();
  }
  return out;
}

// A parse error in the user's words: the unknown command or flag alone, the commands there
// are, and where the help is.
std::string UsageMessage(const CLI::App& app, const CLI::ParseError& e) {
  auto [command, path] = DeepestCommand(app);
  std::string help = " (see `" + path + " --help`)";
  bool has_commands = !command->get_subcommands({}).empty();
  auto extras = app.remaining(true);
  if (!extras.empty()) {
    const std::string& first = extras.front();
    if (first.starts_with('-')) return "unknown flag " + first + help;
    if (has_commands) {
      std::string words = path.substr(app.get_name().size());  // " registry", or ""
      return "unknown command" + words + " " + first +
             "; the commands are: " + CommandList(*command);
    }
    return "unexpected argument " + first + help;
  }
  if (has_commands &&
      command->get_subcommands([](const CLI::App* s) { return s->parsed(); }).empty()) {
    return "`" + path + "` needs a command: " + CommandList(*command);
  }
  std::string what = e.what();
  return (what.empty() ? "invalid command line" : what) + help;
}

// Parses the command line; an exit code when it is done already (help, version, an error).
std::optional<int> Parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "wharf: %s\n", UsageMessage(app, e).c_str());
    return kExitUsage;
  }
  return std::nullopt;
}

// The commands that print the CLI's own documentation, or nullopt for the others.
std::optional<int> RunDocCommand(const CLI::App& app, const Commands& c, const Flags& f,
                                 std::string_view version) {
  if (*c.complete) {
    std::fputs((f.shell == "zsh" ? ZshCompletion(app) : BashCompletion(app)).c_str(), stdout);
    return kExitOk;
  }
  if (*c.man) {
    std::fputs(ManPage(app, {.section = 1,
                             .version = std::string(version),
                             .manual = "User Commands",
                             .extra_section = ".SH FILES\n.TP\n"
                                              ".I ~/.config/wharf/session\n"
                                              "the saved session (mode 0600)\n"
                                              ".SH \"SEE ALSO\"\n.BR wharfd (8)\n"})
                   .c_str(),
               stdout);
    return kExitOk;
  }
  return std::nullopt;
}

Result<void> RunSettingsCommand(const ApiClient& api, const Commands& c, const Flags& f,
                                const SessionStore& store, const std::string& user_agent) {
  if (*c.registry_ls) return ListRegistries(api, f.json);
  if (*c.registry_set) {
    return SetRegistry(api, {f.host, f.username, f.password_stdin, f.insecure, f.ca_file, f.json});
  }
  if (*c.registry_rm) return RemoveRegistry(api, f.host, f.json);
  if (*c.registry_test) return TestRegistry(api, f.host, f.json);
  if (*c.user_ls) return ListUsers(api, f.json);
  if (*c.user_add) return AddUser(api, {f.user_name, f.admin, f.password_stdin, f.json});
  if (*c.user_rm) return RemoveUser(api, f.user_name, f.json);
  if (*c.user_passwd) {
    return ChangePassword(api, store, {f.user_name, f.password_stdin, f.json, user_agent});
  }
  return ShowDiskUsage(api, f.json);
}

Result<void> RunCommand(const Commands& c, const Flags& f, SessionStore& store,
                        const std::string& user_agent) {
  if (*c.login) return Login(store, {f.server, f.username, f.password_stdin, f.json, user_agent});
  if (*c.logout) return Logout(store, user_agent, f.json);
  WHARF_ASSIGN_OR_RETURN(auto api, SessionClient(store, user_agent));
  if (*c.ls) return ListImages(api, {"local", f.type, f.text, f.no_trunc, f.json, f.digests});
  if (*c.search) {
    return ListImages(api,
                      {f.from.empty() ? "dockerhub" : f.from, f.type, f.text, f.no_trunc, f.json});
  }
  if (*c.tags) return ShowTags(api, f.image, f.official, f.json);
  if (*c.pull) return RunPull(api, f);
  if (*c.status) return ShowDownloads(api, f.json);
  if (*c.inspect) return InspectImages(api, {f.images, f.remote, f.template_text});
  if (*c.save) return Save(api, {f.images, f.output, f.format});
  if (*c.load) return Load(api, {f.input, f.tag, f.json});
  if (*c.outdated) return ShowOutdated(api, {f.check, f.json});
  if (*c.update) return UpdateImages(api, {f.images, f.all, f.force, f.check, f.json});
  if (*c.rm) {
    return RemoveImages(api, f.images, {f.type.empty() ? "docker" : f.type, f.all_tags, f.json});
  }
  return RunSettingsCommand(api, c, f, store, user_agent);
}

}  // namespace

int Main(int argc, char** argv, std::string_view version) {
  CLI::App app{kAppDescription, "wharf"};
  Flags f;
  Commands commands = DefineCommands(app, f, version);
  if (auto exit = Parse(app, argc, argv)) return *exit;
  if (auto exit = RunDocCommand(app, commands, f, version)) return *exit;

  curl_global_init(CURL_GLOBAL_DEFAULT);
  auto path = DefaultSessionPath();
  if (!path) return Report(path.error());
  SessionStore store(*path);
  Result<void> done = RunCommand(commands, f, store, "wharf/" + std::string(version));
  std::fflush(stdout);
  curl_global_cleanup();
  return done ? kExitOk : Report(done.error());
}

}  // namespace wharf::cli
