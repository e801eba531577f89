// Shell completions (bash, zsh) and man pages generated from a CLI11 command table, so that
// what --help, the completions and the man page say cannot drift apart: `wharf __complete
// bash|zsh`, `wharf __man` and `wharfd __man` print them; `make install` installs them.
// Commands and options in the hidden group ("") are left out. Pure: the text only.
//
// Its own small library (wharf_cli_docs, CLI11 only), so that wharfd can use it without the
// CLI's HTTP client.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace wharf::cli {

// A bash script defining the completion of `app`'s program (source it, or install it in
// bash-completion's completions directory): command words, then the flags of the command
// typed so far; files after an option that takes a FILE.
std::string BashCompletion(const CLI::App& app);
// The same for zsh, as a `#compdef` function file (_wharf in a directory of $fpath).
std::string ZshCompletion(const CLI::App& app);

struct ManPageInfo {
  int section = 1;            // 1 for user commands, 8 for a daemon
  std::string version;        // "0.1.0"
  std::string manual;         // "User Commands", "System Administration"
  std::string extra_section;  // roff text appended after the commands (FILES, SEE ALSO...)
};
// The man page of `app` in roff (man -l renders it): NAME, SYNOPSIS, DESCRIPTION (the app's
// footer), OPTIONS, one subsection per command with its options and footer, then
// `extra_section`.
std::string ManPage(const CLI::App& app, const ManPageInfo& info);

}  // namespace wharf::cli
