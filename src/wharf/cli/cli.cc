#include "wharf/cli/cli.h"

#include <curl/curl.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>

#include "wharf/cli/commands.h"
#include "wharf/cli/exit_code.h"
#include "wharf/cli/image_arg.h"
#include "wharf/cli/load.h"
#include "wharf/cli/pull.h"
#include "wharf/cli/save.h"
#include "wharf/cli/update.h"

namespace wharf::cli {

namespace {

constexpr const char* kFooter =
    "Exit codes: 0 ok, 1 server or network error, 2 usage, 3 not logged in or not allowed,\n"
    "4 not found, 5 conflict, 130 pull cancelled. Errors are one line on stderr.";

// What the parsed command line asks for.
struct Flags {
  bool json = false;
  std::string server;
  std::string username;
  bool password_stdin = false;
  std::string type;
  std::string from;
  std::string text;
  bool no_trunc = false;
  bool official = false;
  bool remote = false;
  std::string image;
  std::vector<std::string> images;
  std::string output;
  std::string format = "docker";
  std::string input;
  std::string tag;
  bool all = false;
  bool force = false;
  bool check = false;
};

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
  WHARF_ASSIGN_OR_RETURN(auto arg, ParseImageArg(f.image));
  PullRequest r;
  r.type = f.type.empty() ? "docker" : f.type;
  r.from = !f.from.empty() ? f.from : (r.type == "lxc" ? "appcenter" : "dockerhub");
  r.name = arg.name;
  r.tag = arg.tag.empty() ? "latest" : arg.tag;
  r.json = f.json;
  WHARF_RETURN_IF_ERROR(Pull(api, r));
  return {};
}

// The subcommands, as the parser fills them in.
struct Commands {
  CLI::App *login, *logout, *ls, *search, *tags, *pull, *status, *inspect, *rm, *save, *load;
  CLI::App *outdated, *update;
};

void DefineArchiveCommands(CLI::App& app, Flags& f, Commands& c) {
  c.save = app.add_subcommand("save", "write local images to an archive, as docker save does");
  c.save->footer(
      "The archive goes to FILE (written whole or not at all), else to stdout when it is not a\n"
      "terminal: wharf save busybox:1.36 | ssh nas docker load. Layers stay compressed as\n"
      "stored; docker load and podman load read both formats.");
  c.save->add_option("-o,--output", f.output, "write to FILE instead of stdout")
      ->option_text("FILE");
  c.save->add_option("--format", f.format, "docker (default: docker load's tar) or oci")
      ->check(CLI::IsMember({"docker", "oci"}));
  c.save->add_option("IMAGE", f.images, "NAME[:TAG] (TAG defaults to latest) or NAME@DIGEST")
      ->required();

  c.load = app.add_subcommand("load", "add images from an archive, as docker load does");
  c.load->footer(
      "Reads what docker save, podman save, skopeo (docker-archive:, oci-archive:) and wharf\n"
      "save write, plain or gzip or zstd compressed, from FILE or from stdin when it is not a\n"
      "terminal: ssh nas docker save busybox | wharf load");
  c.load->add_option("-i,--input", f.input, "read from FILE instead of stdin")->option_text("FILE");
  c.load->add_option("--tag", f.tag, "NAME:TAG for an image the archive leaves untagged");
}

void DefineUpdateCommands(CLI::App& app, Flags& f, Commands& c) {
  c.outdated = app.add_subcommand("outdated", "list the local tags with an update available");
  c.outdated->footer(
      "As of wharfd's last check of each tag: in the background every\n"
      "updates.check_interval_s, or now with --check. `wharf update --all` downloads them.");
  c.outdated->add_flag("--check", f.check, "check every local tag at its registry first (admin)");

  c.update = app.add_subcommand("update", "download the new image of tags with an update");
  c.update->footer(
      "Each tag is pulled again, with pull's progress, one after another; the new image\n"
      "replaces the old only once it is complete. A named tag without a known update is\n"
      "skipped, saying so, unless --force. NAME alone means each of its local tags.");
  c.update->add_option("IMAGE", f.images, "NAME (each local tag) or NAME:TAG");
  c.update->add_flag("--all", f.all, "every local tag with an update available");
  c.update->add_flag("--force", f.force, "also download named tags with no known update");
  c.update->add_flag("--check", f.check, "check the tags at their registry first (admin)");
}

Commands DefineCommands(CLI::App& app, Flags& f) {
  Commands c{};
  c.login = app.add_subcommand("login", "log in to wharfd and save the session");
  c.login->add_option("--server", f.server,
                      "wharfd's URL (default: $WHARF_SERVER, the saved session's, or " +
                          std::string(kDefaultServer) + ")");
  c.login->add_option("-u,--username", f.username, "user name (asked when missing)");
  c.login->add_flag("--password-stdin", f.password_stdin, "read the password from stdin");
  c.logout = app.add_subcommand("logout", "end the session and forget it");

  c.ls = app.add_subcommand("ls", "list local images, one row per tag");
  c.ls->alias("images");
  c.ls->add_option("--type", f.type, "lxc or docker")->check(CLI::IsMember({"lxc", "docker"}));
  c.ls->add_option("--filter", f.text, "only names or descriptions containing TEXT");
  c.ls->add_flag("--no-trunc", f.no_trunc, "do not cut descriptions");

  c.search = app.add_subcommand("search", "search a depot (Docker Hub or a catalog)");
  c.search->add_option("--from", f.from, "dockerhub (default), appcenter, qnap or official")
      ->check(CLI::IsMember({"dockerhub", "appcenter", "qnap", "official"}));
  c.search->add_option("--type", f.type, "lxc or docker")->check(CLI::IsMember({"lxc", "docker"}));
  c.search->add_option("TEXT", f.text, "what to look for (empty: the whole catalog)");
  c.search->add_flag("--no-trunc", f.no_trunc, "do not cut descriptions");

  c.tags = app.add_subcommand("tags", "list the tags of a repository at its registry");
  c.tags->add_option("NAME", f.image, "image name, without a tag")->required();
  c.tags->add_flag("--official", f.official, "an official Docker Hub image (library/NAME)");

  c.pull = app.add_subcommand("pull", "download an image, showing its progress");
  c.pull->add_option("--from", f.from, "dockerhub (default for docker) or appcenter (for lxc)")
      ->check(CLI::IsMember({"dockerhub", "appcenter", "qnap"}));
  c.pull->add_option("--type", f.type, "docker (default) or lxc")
      ->check(CLI::IsMember({"lxc", "docker"}));
  c.pull->add_option("IMAGE", f.image, "NAME[:TAG], TAG defaults to latest")->required();

  c.status = app.add_subcommand("status", "list downloads that run, wait or failed");
  c.inspect = app.add_subcommand("inspect", "show an image's details (Docker's JSON)");
  c.inspect->add_option("IMAGE", f.image, "NAME[:TAG], TAG defaults to latest")->required();
  c.inspect->add_flag("--remote", f.remote, "ask the registry instead of the local store");

  c.rm = app.add_subcommand("rm", "delete local images: NAME (every tag) or NAME:TAG");
  c.rm->alias("rmi");
  c.rm->add_option("IMAGE", f.images, "NAME or NAME:TAG")->required();
  c.rm->add_option("--type", f.type, "docker (default) or lxc")
      ->check(CLI::IsMember({"lxc", "docker"}));

  DefineArchiveCommands(app, f, c);
  DefineUpdateCommands(app, f, c);
  return c;
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
    std::string what = e.what();
    if (what.empty()) what = "invalid command line";
    std::fprintf(stderr, "wharf: %s (see `wharf --help`)\n", what.c_str());
    return kExitUsage;
  }
  return std::nullopt;
}

Result<void> RunCommand(const Commands& c, const Flags& f, SessionStore& store,
                        const std::string& user_agent) {
  if (*c.login) return Login(store, {f.server, f.username, f.password_stdin, f.json, user_agent});
  if (*c.logout) return Logout(store, user_agent, f.json);
  WHARF_ASSIGN_OR_RETURN(auto api, SessionClient(store, user_agent));
  if (*c.ls) return ListImages(api, {"local", f.type, f.text, f.no_trunc, f.json});
  if (*c.search) {
    return ListImages(api,
                      {f.from.empty() ? "dockerhub" : f.from, f.type, f.text, f.no_trunc, f.json});
  }
  if (*c.tags) return ShowTags(api, f.image, f.official, f.json);
  if (*c.pull) return RunPull(api, f);
  if (*c.status) return ShowDownloads(api, f.json);
  if (*c.inspect) return Inspect(api, f.image, f.remote);
  if (*c.save) return Save(api, {f.images, f.output, f.format});
  if (*c.load) return Load(api, {f.input, f.tag, f.json});
  if (*c.outdated) return ShowOutdated(api, {f.check, f.json});
  if (*c.update) return UpdateImages(api, {f.images, f.all, f.force, f.check, f.json});
  return RemoveImages(api, f.images, f.type.empty() ? "docker" : f.type, f.json);
}

}  // namespace

int Main(int argc, char** argv, std::string_view version) {
  CLI::App app{"wharf - the command-line client of wharfd (container images)", "wharf"};
  app.footer(kFooter);
  app.set_version_flag("--version", "wharf " + std::string(version));
  app.require_subcommand(1);
  app.fallthrough();  // --json is accepted after the command too
  Flags f;
  app.add_flag("--json", f.json, "print the API's JSON instead of tables and text");
  Commands commands = DefineCommands(app, f);
  if (auto exit = Parse(app, argc, argv)) return *exit;

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
