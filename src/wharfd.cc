// wharfd: the wharf daemon. Parses flags, loads the configuration, runs.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "wharf/daemon/config.h"
#include "wharf/daemon/daemon.h"
#include "wharf/daemon/listen_url.h"
#include "wharf/daemon/user_command.h"
#include "wharf/fsck/fsck.h"

int main(int argc, char** argv) {
  CLI::App app{"wharfd - container image service (Container Station image API)"};
  std::string config_file;
  std::string listen;
  std::string data_dir;
  bool version = false;
  app.add_option("--config", config_file, "TOML configuration file (see etc/wharf.toml)");
  app.add_option("--listen", listen, "HOST:PORT to listen on (overrides `listen`)");
  app.add_option("--data", data_dir, "data directory (overrides `data_dir`)");
  app.add_flag("--version", version, "print the version and exit");
  bool repair = false;
  CLI::App* fsck = app.add_subcommand(
      "fsck", "check the data directory (blobs, images, leftovers) while no wharfd runs on it");
  fsck->add_option("--config", config_file, "TOML configuration file naming `data_dir`");
  fsck->add_option("--data", data_dir, "data directory (overrides `data_dir`)");
  fsck->add_flag("--repair", repair,
                 "remove orphans and leftovers; mark broken images failed for a new download");
  wharf::daemon::UserCommandArgs user_args;
  CLI::App* user = app.add_subcommand("user", "manage the users who may log in");
  user->require_subcommand(1);
  user->add_option("--config", config_file, "TOML configuration file naming `data_dir`");
  user->add_option("--data", data_dir, "data directory (overrides `data_dir`)");
  for (auto [action, help] : {std::pair{"add", "create a user (asks for the password)"},
                              std::pair{"passwd", "change a user's password"},
                              std::pair{"del", "remove a user and end their sessions"}}) {
    CLI::App* sub = user->add_subcommand(action, help);
    sub->add_option("name", user_args.username, "user name")->required();
    if (std::string_view(action) != "del") {
      sub->add_flag("--password-stdin", user_args.password_stdin,
                    "read the password from the first line of standard input");
    }
    if (std::string_view(action) == "add") {
      sub->add_flag("--admin", user_args.admin, "may download, cancel and delete images");
    }
    sub->callback([&user_args, action] { user_args.action = action; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help answers 0; every usage error exits 2
  }
  if (version) {
    std::printf("wharfd %s\n", WHARF_VERSION);
    return 0;
  }

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
