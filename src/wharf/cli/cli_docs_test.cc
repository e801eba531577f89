#include "wharf/cli/cli_docs.h"

#include <gtest/gtest.h>

namespace wharf::cli {
namespace {

// A small table: tool [--verbose] get [-o FILE] [--name N] KEY..., tool net ls, a hidden one.
class CliDocsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_.add_flag("--verbose", flag_, "say more");
    auto* get = app_.add_subcommand("get", "fetch keys");
    get->alias("fetch");
    get->add_option("-o,--output", text_, "write to FILE")->option_text("FILE");
    get->add_option("--name", text_, "a name - or -.dotted");
    get->add_option("KEY", keys_, "the keys")->required();
    get->footer(".starts with a dot\nand a back\\slash");
    auto* net = app_.add_subcommand("net", "networks");
    net->add_subcommand("ls", "list them");
    app_.add_subcommand("__secret", "hidden")->group("");
  }
  CLI::App app_{"tool - does things", "tool"};
  bool flag_ = false;
  std::string text_;
  std::vector<std::string> keys_;
};

TEST_F(CliDocsTest, BashListsEveryCommandPathAndItsWords) {
  std::string bash = BashCompletion(app_);
  EXPECT_NE(bash.find("[\"tool\"]=\"get fetch net -h --help --verbose\""), std::string::npos)
      << bash;
  EXPECT_NE(bash.find("[\"tool get\"]=\"-h --help -o --output --name\""), std::string::npos)
      << bash;
  EXPECT_NE(bash.find("[\"tool fetch\"]="), std::string::npos);  // the alias completes alike
  EXPECT_NE(bash.find("[\"tool net\"]=\"ls -h --help\""), std::string::npos) << bash;
  EXPECT_NE(bash.find("-o|--output) COMPREPLY=($(compgen -f"), std::string::npos) << bash;
  EXPECT_NE(bash.find("--name) COMPREPLY=(); return"), std::string::npos) << bash;
  EXPECT_NE(bash.find("complete -F _tool tool"), std::string::npos);
  EXPECT_EQ(bash.find("__secret"), std::string::npos);
}

TEST_F(CliDocsTest, ZshIsACompdefFile) {
  std::string zsh = ZshCompletion(app_);
  EXPECT_TRUE(zsh.starts_with("#compdef tool\n")) << zsh;
  EXPECT_NE(zsh.find("'tool net' 'ls -h --help'"), std::string::npos) << zsh;
  EXPECT_NE(zsh.find("(-o|--output) _files"), std::string::npos) << zsh;
  EXPECT_EQ(zsh.find("__secret"), std::string::npos);
}

TEST_F(CliDocsTest, ManPageHasEveryCommandWithRoffEscaped) {
  std::string man = ManPage(
      app_, {.section = 8, .version = "1.2.3", .manual = "System", .extra_section = ".SH FILES\n"});
  EXPECT_TRUE(
      man.starts_with(".TH TOOL 8 \"\" \"tool 1.2.3\" \"System\"\n.SH NAME\n"
                      "tool \\- does things\n"))
      << man;
  EXPECT_NE(man.find(".SS \"\\fBtool get\\fR [\\fIOPTIONS\\fR] \\fIKEY\\fR...\"\n"
                     "fetch keys (also: fetch)\n"),
            std::string::npos)
      << man;
  EXPECT_NE(man.find(".TP\n\\fB\\-o\\fR, \\fB\\-\\-output\\fR \\fIFILE\\fR\nwrite to FILE\n"),
            std::string::npos)
      << man;
  EXPECT_NE(man.find("a name \\- or \\-.dotted"), std::string::npos) << man;
  EXPECT_NE(man.find(".PP\n\\&.starts with a dot\nand a back\\eslash\n"), std::string::npos) << man;
  EXPECT_NE(man.find(".SS \"\\fBtool net ls\\fR\"\nlist them\n"), std::string::npos) << man;
  EXPECT_EQ(man.find("__secret"), std::string::npos);
  EXPECT_TRUE(man.ends_with(".SH FILES\n"));
}

}  // namespace
}  // namespace wharf::cli
