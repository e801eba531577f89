#include "wharf/cli/cli_docs.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace wharf::cli {

namespace {

bool Visible(const CLI::App* a) { return !a->get_group().empty(); }

std::vector<const CLI::App*> Subcommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* a) { return Visible(a); });
}

std::vector<const CLI::Option*> Options(const CLI::App& app, bool positional) {
  return app.get_options([positional](const CLI::Option* o) {
    return !o->get_group().empty() && o->get_positional() == positional;
  });
}

bool TakesValue(const CLI::Option& o) { return o.get_expected_max() != 0; }

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : std::string(sep)) + item;
  return out;
}

std::vector<std::string> OptionNames(const CLI::Option& o) {
  std::vector<std::string> names;
  for (const auto& s : o.get_snames()) names.push_back("-" + s);
  for (const auto& l : o.get_lnames()) names.push_back("--" + l);
  return names;
}

// What an option's value is called: its option_text, else its long name in capitals.
std::string ValueName(const CLI::Option& o) {
  if (!o.get_option_text().empty()) return o.get_option_text();
  std::string name = o.get_lnames().empty() ? "VALUE" : o.get_lnames().front();
  std::ranges::transform(name, name.begin(), [](unsigned char c) { return std::toupper(c); });
  return name;
}

// Every visible command under `app` with its words (subcommands, aliases and flags), keyed
// by its path from the program's name ("wharf registry set"); aliases get an entry too.
void CollectWords(const CLI::App& app, const std::string& path,
                  std::vector<std::pair<std::string, std::string>>& out) {
  std::vector<std::string> words;
  auto subs = Subcommands(app);
  for (const auto* sub : subs) {
    words.push_back(sub->get_name());
    for (const auto& alias : sub->get_aliases()) words.push_back(alias);
  }
  for (const auto* o : Options(app, false)) {
    for (auto& name : OptionNames(*o)) words.push_back(std::move(name));
  }
  out.emplace_back(path, Join(words, " "));
  for (const auto* sub : subs) {
    CollectWords(*sub, path + " " + sub->get_name(), out);
    for (const auto& alias : sub->get_aliases()) CollectWords(*sub, path + " " + alias, out);
  }
}

// The options that take a value, anywhere in the table: those whose value is a FILE, and
// the others, as "a|b|c" case patterns (empty when there is none).
std::pair<std::string, std::string> ValueOptionPatterns(const CLI::App& app) {
  std::vector<std::string> files, others;
  std::vector<const CLI::App*> todo = {&app};
  while (!todo.empty()) {
    const CLI::App* a = todo.back();
    todo.pop_back();
    for (const auto* o : Options(*a, false)) {
      if (!TakesValue(*o)) continue;
      auto& list = ValueName(*o) == "FILE" ? files : others;
      for (auto& name : OptionNames(*o)) {
        if (std::ranges::find(list, name) == list.end()) list.push_back(std::move(name));
      }
    }
    for (const auto* sub : Subcommands(*a)) todo.push_back(sub);
  }
  return {Join(files, "|"), Join(others, "|")};
}

// Text for roff: backslashes and hyphens escaped, a line starting with '.' or '\'' kept
// as text.
std::string Roff(std::string_view text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
    line_start = c == '\n';
  }
  return out;
}

std::string Bold(std::string_view s) { return "\\fB" + Roff(s) + "\\fR"; }
std::string Italic(std::string_view s) { return "\\fI" + Roff(s) + "\\fR"; }

std::string PositionalSynopsis(const CLI::Option& o) {
  std::string name = Italic(o.get_name());
  if (o.get_items_expected_max() > 1) name += "...";
  return o.get_required() ? name : "[" + name + "]";
}

// ".TP" entries of the options of `app`, its help flag left out.
std::string ManOptions(const CLI::App& app) {
  std::string out;
  for (const auto* o : Options(app, false)) {
    if (o == app.get_help_ptr()) continue;
    std::vector<std::string> names;
    for (const auto& n : OptionNames(*o)) names.push_back(Bold(n));
    out += ".TP\n" + Join(names, ", ") + (TakesValue(*o) ? " " + Italic(ValueName(*o)) : "") +
           "\n" + Roff(o->get_description()) + "\n";
  }
  return out;
}

// One ".SS" per command under `app`, recursively; `path` is the command's words.
void ManCommands(const CLI::App& app, const std::string& path, std::string& out) {
  for (const auto* sub : Subcommands(app)) {
    std::string sub_path = path + " " + sub->get_name();
    std::string synopsis = Bold(sub_path);
    if (!Subcommands(*sub).empty()) synopsis += " " + Italic("COMMAND");
    if (Options(*sub, false).size() > 1) synopsis += " [" + Italic("OPTIONS") + "]";
    for (const auto* p : Options(*sub, true)) synopsis += " " + PositionalSynopsis(*p);
    out += ".SS \"" + synopsis + "\"\n" + Roff(sub->get_description());
    if (!sub->get_aliases().empty()) out += " (also: " + Roff(Join(sub->get_aliases(), ", ")) + ")";
    out += "\n" + ManOptions(*sub);
    if (!sub->get_footer().empty()) out += ".PP\n" + Roff(sub->get_footer()) + "\n";
    ManCommands(*sub, sub_path, out);
  }
}

}  // namespace

std::string BashCompletion(const CLI::App& app) {
  const std::string name = app.get_name();
  std::vector<std::pair<std::string, std::string>> table;
  CollectWords(app, name, table);
  auto [files, others] = ValueOptionPatterns(app);
  std::string out = "# bash completion for " + name + ", generated by `" + name +
                    " __complete bash`.\n_" + name + "() {\n" +
                    "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n" +
                    "  local -A words=(\n";
  for (const auto& [path, words] : table) out += "    [\"" + path + "\"]=\"" + words + "\"\n";
  out += "  )\n  case $prev in\n";
  if (!files.empty())
    out += "    " + files + ") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n";
  if (!others.empty()) out += "    " + others + ") COMPREPLY=(); return ;;\n";
  out += "  esac\n  local path=" + name + " w i\n" + "  for ((i = 1; i < COMP_CWORD; i++)); do\n" +
         "    w=${COMP_WORDS[i]}\n" +
         "    [[ -n ${words[\"$path $w\"]+x} ]] && path=\"$path $w\"\n" + "  done\n" +
         "  COMPREPLY=($(compgen -W \"${words[$path]}\" -- \"$cur\"))\n}\n" + "complete -F _" +
         name + " " + name + "\n";
  return out;
}

std::string ZshCompletion(const CLI::App& app) {
  const std::string name = app.get_name();
  std::vector<std::pair<std::string, std::string>> table;
  CollectWords(app, name, table);
  auto [files, others] = ValueOptionPatterns(app);
  std::string out = "#compdef " + name + "\n# zsh completion for " + name + ", generated by `" +
                    name + " __complete zsh`.\nlocal -A table\ntable=(\n";
  for (const auto& [path, words] : table) out += "  '" + path + "' '" + words + "'\n";
  out += ")\ncase ${words[CURRENT-1]} in\n";
  if (!files.empty()) out += "  (" + files + ") _files; return ;;\n";
  if (!others.empty()) out += "  (" + others + ") return 1 ;;\n";
  out += "esac\nlocal cmd=" + name + " w i\n" + "for (( i = 2; i < CURRENT; i++ )); do\n" +
         "  w=${words[i]}\n" + "  (( ${+table[$cmd $w]} )) && cmd=\"$cmd $w\"\n" + "done\n" +
         "compadd -- ${=table[$cmd]}\n";
  return out;
}

std::string ManPage(const CLI::App& app, const ManPageInfo& info) {
  const std::string name = app.get_name();
  std::string upper = name;
  std::ranges::transform(upper, upper.begin(), [](unsigned char c) { return std::toupper(c); });
  std::string what = app.get_description();
  if (size_t dash = what.find(" - "); dash != std::string::npos) what = what.substr(dash + 3);
  std::string out = ".TH " + upper + " " + std::to_string(info.section) + " \"\" \"" +
                    Roff(name + " " + info.version) + "\" \"" + Roff(info.manual) + "\"\n";
  out += ".SH NAME\n" + Roff(name) + " \\- " + Roff(what) + "\n";
  out += ".SH SYNOPSIS\n" + Bold(name) + " [" + Italic("OPTIONS") + "]";
  if (!Subcommands(app).empty()) out += " " + Italic("COMMAND") + " [" + Italic("ARGS") + "]";
  out += "\n.SH DESCRIPTION\n" + Roff(what) + ".\n";
  if (!app.get_footer().empty()) out += ".PP\n" + Roff(app.get_footer()) + "\n";
  out += ".SH OPTIONS\n" + ManOptions(app) + ".TP\n" + Bold("--help") +
         "\nprint the help of the program or of a command, as " + Bold(name + " COMMAND --help") +
         "\n";
  if (!Subcommands(app).empty()) {
    out += ".SH COMMANDS\n";
    ManCommands(app, name, out);
  }
  return out + info.extra_section;
}

}  // namespace wharf::cli
