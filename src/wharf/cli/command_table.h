// The command table of `wharf`: every command, flag and argument with its help text, on a
// CLI11 parser. It is the one source of the CLI's --help, its shell completions and its man
// page (cli_docs.h), so they cannot drift apart. DefineCommands only declares; running a
// command is Main's job (cli.cc).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace wharf::cli {

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
  bool digests = false;   // ls --digests
  bool all_tags = false;  // rm --all-tags
  bool official = false;
  bool remote = false;
  std::string image;
  std::vector<std::string> images;
  std::string output;
  std::string format = "docker";
  std::string template_text;  // inspect --format
  std::string input;
  std::string tag;
  bool all = false;
  bool force = false;
  bool check = false;
  // The settings commands (registry, user).
  std::string host;
  bool insecure = false;
  std::string ca_file;
  std::string user_name;
  bool admin = false;
  std::string shell;  // __complete
};

// The commands, as the parser fills them in (a CLI::App is parsed when its command ran).
struct Commands {
  CLI::App *login, *logout, *ls, *search, *tags, *pull, *status, *inspect, *rm, *save, *load;
  CLI::App *outdated, *update;
  CLI::App *registry, *registry_ls, *registry_set, *registry_rm, *registry_test;
  CLI::App *user, *user_ls, *user_add, *user_rm, *user_passwd;
  CLI::App* df;
  CLI::App *complete, *man;  // hidden: the shell completions and the man page
};

inline constexpr const char* kAppDescription =
    "wharf - the command-line client of wharfd (container images)";

// Declares every command on `app` (the top-level parser, made with kAppDescription and the
// name "wharf"), and --json and --version, the parsed values going into `flags`, which must
// outlive `app`.
Commands DefineCommands(CLI::App& app, Flags& flags, std::string_view version);

}  // namespace wharf::cli
