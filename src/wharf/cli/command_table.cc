#include "wharf/cli/command_table.h"

#include "wharf/cli/commands.h"

namespace wharf::cli {

namespace {

constexpr const char* kFooter =
    "Exit codes: 0 ok, 1 server or network error, 2 usage, 3 not logged in or not allowed,\n"
    "4 not found, 5 conflict, 130 pull cancelled. Errors are one line on stderr.";

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

void DefineRegistryCommands(CLI::App& app, Flags& f, Commands& c) {
  c.registry = app.add_subcommand("registry", "list, set, remove and test registries (admin)");
  c.registry->require_subcommand(1);
  c.registry->footer(
      "Entries set here are kept by wharfd and used at once, without a restart; entries of\n"
      "its configuration file are listed read-only (source config) and win over them.");
  c.registry_ls = c.registry->add_subcommand("ls", "list the registries wharfd knows");
  c.registry_set = c.registry->add_subcommand(
      "set", "add or replace a registry's entry: its credentials, CA, insecure");
  c.registry_set->add_option("HOST", f.host, "the registry's host[:port]")->required();
  c.registry_set->add_option("-u,--username", f.username, "user name at the registry");
  c.registry_set->add_flag("--password-stdin", f.password_stdin,
                           "read the password from stdin (else asked without echo)");
  c.registry_set->add_flag("--insecure", f.insecure,
                           "plain HTTP or an unverified certificate (test registries)");
  c.registry_set->add_option("--ca-file", f.ca_file, "trust the CA certificate in this PEM file")
      ->option_text("FILE");
  c.registry_rm = c.registry->add_subcommand("rm", "remove an entry set through wharf");
  c.registry_rm->add_option("HOST", f.host, "the registry's host[:port]")->required();
  c.registry_test = c.registry->add_subcommand(
      "test", "check the connection: ping, auth challenge, login, one read");
  c.registry_test->add_option("HOST", f.host, "the registry's host[:port]")->required();
}

void DefineUserCommands(CLI::App& app, Flags& f, Commands& c) {
  c.user = app.add_subcommand("user", "list, add and remove users; change passwords");
  c.user->require_subcommand(1);
  c.user->footer(
      "Passwords are read from stdin (one line each) when it is not a terminal or with\n"
      "--password-stdin, else asked twice without echo. A change or removal ends the user's\n"
      "sessions; after changing your own password wharf logs in again.");
  c.user_ls = c.user->add_subcommand("ls", "list the users (admin)");
  c.user_add = c.user->add_subcommand("add", "create a user (admin)");
  c.user_add->add_option("NAME", f.user_name, "user name")->required();
  c.user_add->add_flag("--admin", f.admin, "may download, delete and manage settings");
  c.user_add->add_flag("--password-stdin", f.password_stdin, "read the password from stdin");
  c.user_rm = c.user->add_subcommand("rm", "remove a user and end their sessions (admin)");
  c.user_rm->add_option("NAME", f.user_name, "user name")->required();
  c.user_passwd =
      c.user->add_subcommand("passwd", "change your password, or (admin) another user's");
  c.user_passwd->add_option("NAME", f.user_name, "user name (default: you)");
  c.user_passwd->add_flag("--password-stdin", f.password_stdin,
                          "read the passwords from stdin: your current one first (for your "
                          "own), then the new one");
}

void DefineSettingsCommands(CLI::App& app, Flags& f, Commands& c) {
  DefineRegistryCommands(app, f, c);
  DefineUserCommands(app, f, c);
  c.df = app.add_subcommand("df", "show the store's disk usage, per image, as docker system df -v");
  c.df->footer(
      "SIZE is as stored (compressed layers); SHARED the part other images need too; UNIQUE\n"
      "what deleting the image frees. UNIQUE of every image + SHARED + UNREFERENCED = TOTAL.");
}

void DefineDocCommands(CLI::App& app, Flags& f, Commands& c) {
  c.complete = app.add_subcommand("__complete", "print the shell completion script");
  c.complete->group("");
  c.complete->add_option("SHELL", f.shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  c.man = app.add_subcommand("__man", "print the man page wharf.1");
  c.man->group("");
}

}  // namespace

Commands DefineCommands(CLI::App& app, Flags& f, std::string_view version) {
  app.footer(kFooter);
  app.set_version_flag("--version", "wharf " + std::string(version));
  app.require_subcommand(1);
  app.fallthrough();  // --json is accepted after the command too
  app.add_flag("--json", f.json, "print the API's JSON instead of tables and text");
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
  c.ls->add_flag("--no-trunc", f.no_trunc, "do not cut descriptions or fit the terminal");
  c.ls->add_flag("--digests", f.digests, "a DIGEST column (images pulled by digest)");

  c.search = app.add_subcommand("search", "search a depot (Docker Hub or a catalog)");
  c.search->add_option("--from", f.from, "dockerhub (default), appcenter, qnap or official")
      ->check(CLI::IsMember({"dockerhub", "appcenter", "qnap", "official"}));
  c.search->add_option("--type", f.type, "lxc or docker")->check(CLI::IsMember({"lxc", "docker"}));
  c.search->add_option("TEXT", f.text, "what to look for (empty: the whole catalog)");
  c.search->add_flag("--no-trunc", f.no_trunc, "do not cut descriptions or fit the terminal");

  c.tags = app.add_subcommand("tags", "list the tags of a repository at its registry");
  c.tags->add_option("NAME", f.image, "image name, without a tag")->required();
  c.tags->add_flag("--official", f.official, "an official Docker Hub image (library/NAME)");

  c.pull = app.add_subcommand("pull", "download an image, showing its progress");
  c.pull->footer(
      "Ctrl-C asks: y cancels the download (exit 130), N goes back to the progress, b leaves\n"
      "it running in wharfd (exit 0); a second Ctrl-C cancels it at once (exit 130). While\n"
      "wharfd does not answer the view says reconnecting and retries for up to 90 s (exit 1).");
  c.pull->add_option("--from", f.from, "dockerhub (default for docker) or appcenter (for lxc)")
      ->check(CLI::IsMember({"dockerhub", "appcenter", "qnap"}));
  c.pull->add_option("--type", f.type, "docker (default) or lxc")
      ->check(CLI::IsMember({"lxc", "docker"}));
  c.pull->add_option("IMAGE", f.image, "NAME[:TAG] (TAG defaults to latest) or NAME@sha256:...")
      ->required();

  c.status = app.add_subcommand("status", "list downloads that run, wait or failed");
  c.inspect = app.add_subcommand("inspect", "show images' details (Docker's JSON), as a list");
  c.inspect->footer(
      "Prints a JSON array with an element per IMAGE, as docker inspect does; a missing image\n"
      "is reported on stderr (exit 4) and the others are still printed. --format prints a\n"
      "line per image: {{.Id}}, {{.Config.Env}} (Go's [A=1 B=2]), {{json .RootFS}}, paths at\n"
      "any depth, text around them; a field the image lacks prints <no value>.");
  c.inspect->add_option("IMAGE", f.images, "NAME[:TAG], TAG defaults to latest")->required();
  c.inspect->add_flag("--remote", f.remote, "ask the registry instead of the local store");
  c.inspect->add_option("-f,--format", f.template_text, "a Go-template-like line per image")
      ->option_text("TEMPLATE");

  c.rm = app.add_subcommand("rm", "delete local images: NAME (NAME:latest) or NAME:TAG");
  c.rm->alias("rmi");
  c.rm->add_option("IMAGE", f.images, "NAME or NAME:TAG")->required();
  c.rm->add_flag("--all-tags", f.all_tags, "delete every tag of each NAME");
  c.rm->add_option("--type", f.type, "docker (default) or lxc")
      ->check(CLI::IsMember({"lxc", "docker"}));

  DefineArchiveCommands(app, f, c);
  DefineUpdateCommands(app, f, c);
  DefineSettingsCommands(app, f, c);
  DefineDocCommands(app, f, c);
  return c;
}

}  // namespace wharf::cli
