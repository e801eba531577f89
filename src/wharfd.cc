// wharfd: the wharf daemon. Parses flags, loads the configuration, runs.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "wharf/cli/cli_docs.h"
#include "wharf/daemon/config.h"
#include "wharf/daemon/daemon.h"
#include "wharf/daemon/listen_url.h"
#include "wharf/daemon/user_command.h"
#include "wharf/fsck/fsck.h"

namespace {

// What the command line asks for.
struct Flags {
  std::string config_file;
  std::string listen;
  std::string data_dir;
  bool version = false;
  bool repair = false;
  wharf::daemon::UserCommandArgs user_args;
};

struct Commands {
  CLI::App *fsck, *user, *man;
};

constexpr const char* kManFiles =
    ".SH FILES\n.TP\n.I /etc/wharf/wharf.toml\nthe configuration (every key with its default)\n"
    ".TP\n.I /var/lib/wharf\nthe data directory of the systemd unit\n"
    ".SH \"SEE ALSO\"\n.BR wharf (1)\n";

// The command table: wharfd's --help and its man page (wharfd __man) both come from it.
Commands DefineCommands(CLI::App& app, Flags& f) {
  app.add_option("--config", f.config_file,
                 "TOML configuration file (installed as /etc/wharf/wharf.toml)");
  app.add_option("--listen", f.listen, "HOST:PORT to listen on (overrides `listen`)");
  app.add_option("--data", f.data_dir, "data directory (overrides `data_dir`)");
  app.add_flag("--version", f.version, "print the version and exit");
  Commands c{};
  c.fsck = app.add_subcommand(
      "fsck", "check the data directory (blobs, images, leftovers) while no wharfd runs on it");
  c.fsck->add_option("--config", f.config_file, "TOML configuration file naming `data_dir`");
  c.fsck->add_option("--data", f.data_dir, "data directory (overrides `data_dir`)");
  c.fsck->add_flag("--repair", f.repair,
                   "remove orphans and leftovers; mark broken images failed for a new download");
  c.user = app.add_subcommand("user", "manage the users who may log in");
  c.user->require_subcommand(1);
  c.user->add_option("--config", f.config_file, "TOML configuration file naming `data_dir`");
  c.user->add_option("--data", f.data_dir, "data directory (overrides `data_dir`)");
  c.user->footer(
      "--config and --data go before or after the action: wharfd user passwd admin --data DIR");
  auto& args = f.user_args;
  for (auto [action, help] : {std::pair{"add", "create a user (asks for the password)"},
                              std::pair{"passwd", "change a user's password"},
                              std::pair{"del", "remove a user and end their sessions"}}) {
    CLI::App* sub = c.user->add_subcommand(action, help);
    sub->fallthrough();  // --config and --data after the action are the user command's
    sub->add_option("NAME", args.username, "user name")->required();
    if (std::string_view(action) != "del") {
      sub->add_flag("--password-stdin", args.password_stdin,
                    "read the password from the first line of standard input");
    }
    if (std::string_view(action) == "add") {
      sub->add_flag("--admin", args.admin, "may download, cancel and delete images");
    }
    sub->callback([&args, action] { args.action = action; });
  }
  c.man = app.add_subcommand("__man", "print the man page wharfd.8");
  c.man->group("");
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wharfd - container image service (Container Station image API)", "wharfd"};
  Flags flags;
  Commands commands = DefineCommands(app, flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help answers 0; every usage error exits 2
  }
  if (flags.version) {
    std::printf("wharfd %s\n", WHARF_VERSION);
    return 0;
  }
  if (commands.man->parsed()) {
    std::fputs(wharf::cli::ManPage(app, {.section = 8,
                                         .version = WHARF_VERSION,
                                         .manual = "System Administration",
                                         .extra_section = kManFiles})
                   .c_str(),
               stdout);
    return 0;
  }
  // The names the rest of main uses.
  const std::string& config_file = flags.config_file;
  const std::string& listen = flags.listen;
  const std::string& data_dir = flags.data_dir;
  const bool repair = flags.repair;
  const auto& user_args = flags.user_args;
  CLI::App* fsck = commands.fsck;
  CLI::App* user = commands.user;

  auto config = config_file.empty() ? wharf::daemon::ParseConfig("", "defaults")
                                    : wharf::daemon::LoadConfig(config_file);
  if (!config) {
    std::fprintf(stderr, "wharfd: %s\n", config.error().message.c_str());
    return 2;
  }
  if (!config_file.empty() && wharf::daemon::HoldsCredentials(*config)) {
    struct stat st {};
    if (::stat(config_file.c_str(), &st) == 0 && (st.st_mode & 0044) != 0) {
      std::fprintf(stderr,
                   "wharfd: warning: %s holds registry passwords and is readable by other "
                   "users; chmod 600 it\n",
                   config_file.c_str());
    }
  }
  const auto given = wharf::daemon::GivenListen(listen);  // --listen, else WHARF_LISTEN
  if (!given.value.empty()) {
    if (auto hp = wharf::daemon::SplitHostPort(given.value); !hp) {
      std::fprintf(stderr, "wharfd: %s: %s\n", given.origin, hp.error().message.c_str());
      return 2;
    }
    config->listen = given.value;
  }
  if (!data_dir.empty()) config->data_dir = data_dir;
  if (fsck->parsed()) return wharf::fsck::Command({config->data_dir, repair}, stdout, stderr);
  if (user->parsed()) return wharf::daemon::RunUserCommand(*config, user_args, stdout, stderr);
  auto ran = wharf::daemon::Run(*config);
  if (!ran) {
    std::fprintf(stderr, "wharfd: %s\n", ran.error().message.c_str());
    return 1;
  }
  return 0;
}
