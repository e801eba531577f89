#include "wharf/cli/command_table.h"

#include <gtest/gtest.h>

#include "wharf/cli/cli_docs.h"

namespace wharf::cli {
namespace {

struct Parsed {
  CLI::App app{kAppDescription, "wharf"};
  Flags flags;
  Commands commands = DefineCommands(app, flags, "1.0.0");

  void Parse(std::vector<std::string> args) {
    std::reverse(args.begin(), args.end());  // CLI11 takes them last first
    app.parse(args);
  }
};

TEST(CommandTableTest, SettingsCommandsFillTheirFlags) {
  Parsed p;
  p.Parse({"registry", "set", "registry.lan:5000", "--username", "ci", "--password-stdin",
           "--insecure", "--ca-file", "ca.pem"});
  EXPECT_TRUE(*p.commands.registry_set);
  EXPECT_EQ(p.flags.host, "registry.lan:5000");
  EXPECT_EQ(p.flags.username, "ci");
  EXPECT_TRUE(p.flags.password_stdin);
  EXPECT_TRUE(p.flags.insecure);
  EXPECT_EQ(p.flags.ca_file, "ca.pem");

  Parsed q;
  q.Parse({"user", "add", "bob", "--admin", "--json"});  // --json after the command too
  EXPECT_TRUE(*q.commands.user_add);
  EXPECT_EQ(q.flags.user_name, "bob");
  EXPECT_TRUE(q.flags.admin);
  EXPECT_TRUE(q.flags.json);

  Parsed r;
  r.Parse({"user", "passwd"});
  EXPECT_TRUE(*r.commands.user_passwd);
  EXPECT_EQ(r.flags.user_name, "");
}

TEST(CommandTableTest, APasswordIsNeverAnOption) {
  Parsed p;
  std::string man = ManPage(p.app, {});
  for (const char* leak : {"\\-\\-password \\fI", "\\-p,"}) {
    EXPECT_EQ(man.find(leak), std::string::npos) << leak;
  }
  EXPECT_THROW(p.Parse({"registry", "set", "h", "--password", "x"}), CLI::ParseError);
}

TEST(CommandTableTest, DocsCoverEveryCommand) {
  Parsed p;
  std::string bash = BashCompletion(p.app);
  std::string man = ManPage(p.app, {});
  for (const char* path : {"wharf registry set", "wharf registry test", "wharf user passwd",
                           "wharf df", "wharf pull", "wharf images", "wharf save"}) {
    EXPECT_NE(bash.find("[\"" + std::string(path) + "\"]"), std::string::npos) << path;
  }
  for (const char* path : {"wharf registry set", "wharf user passwd", "wharf df"}) {
    EXPECT_NE(man.find(".SS \"\\fB" + std::string(path)), std::string::npos) << path;
  }
  EXPECT_EQ(bash.find("[\"wharf __"), std::string::npos);
  EXPECT_EQ(man.find("__man"), std::string::npos);
}

}  // namespace
}  // namespace wharf::cli
