#include "wharf/reference/reference.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wharf::reference {
namespace {

const std::string kHex = "4bcff63911fcb4448bd4fdacec207030997caf25e9bea4045fa6c8c44de311d1";
const std::string kDigest = "sha256:" + kHex;

struct ValidCase {
  std::string input;
  std::string domain;
  std::string path;
  std::string tag;
  std::string digest;
  std::string familiar_string;
};

TEST(ReferenceTest, ParsesAndNormalisesValidReferences) {
  const std::vector<ValidCase> cases = {
      {"ubuntu", "docker.io", "library/ubuntu", "latest", "", "ubuntu:latest"},
      {"library/ubuntu", "docker.io", "library/ubuntu", "latest", "", "ubuntu:latest"},
      {"docker.io/library/ubuntu", "docker.io", "library/ubuntu", "latest", "", "ubuntu:latest"},
      {"index.docker.io/library/ubuntu", "docker.io", "library/ubuntu", "latest", "",
       "ubuntu:latest"},
      {"docker.io/ubuntu", "docker.io", "library/ubuntu", "latest", "", "ubuntu:latest"},
      {"lgsd/diamond", "docker.io", "lgsd/diamond", "latest", "", "lgsd/diamond:latest"},
      {"qnap.dorowu.com/qnap/builder", "qnap.dorowu.com", "qnap/builder", "latest", "",
       "qnap.dorowu.com/qnap/builder:latest"},
      {"sameersbn/postgresql:9.4", "docker.io", "sameersbn/postgresql", "9.4", "",
       "sameersbn/postgresql:9.4"},
      {"sameersbn/redmine:3.0.2", "docker.io", "sameersbn/redmine", "3.0.2", "",
       "sameersbn/redmine:3.0.2"},
      {"aostanin/deluge", "docker.io", "aostanin/deluge", "latest", "", "aostanin/deluge:latest"},
      {"chrisabrams/docker-minecraft-with-bukkit", "docker.io",
       "chrisabrams/docker-minecraft-with-bukkit", "latest", "",
       "chrisabrams/docker-minecraft-with-bukkit:latest"},
      {"colinhuang/wine-with-novnc", "docker.io", "colinhuang/wine-with-novnc", "latest", "",
       "colinhuang/wine-with-novnc:latest"},
      {"dorowu/ubuntu-desktop-lxde-vnc", "docker.io", "dorowu/ubuntu-desktop-lxde-vnc", "latest",
       "", "dorowu/ubuntu-desktop-lxde-vnc:latest"},
      {"jenkins", "docker.io", "library/jenkins", "latest", "", "jenkins:latest"},
      {"centos:7", "docker.io", "library/centos", "7", "", "centos:7"},
      {"mongo", "docker.io", "library/mongo", "latest", "", "mongo:latest"},
      {"nginx", "docker.io", "library/nginx", "latest", "", "nginx:latest"},
      {"node", "docker.io", "library/node", "latest", "", "node:latest"},
      {"redis", "docker.io", "library/redis", "latest", "", "redis:latest"},
      {"tutum/mysql", "docker.io", "tutum/mysql", "latest", "", "tutum/mysql:latest"},
      {"tutum/wordpress", "docker.io", "tutum/wordpress", "latest", "", "tutum/wordpress:latest"},
      {"localhost/foo", "localhost", "foo", "latest", "", "localhost/foo:latest"},
      {"localhost:5000/foo/bar:tag", "localhost:5000", "foo/bar", "tag", "",
       "localhost:5000/foo/bar:tag"},
      {"127.0.0.1:5000/a/b", "127.0.0.1:5000", "a/b", "latest", "", "127.0.0.1:5000/a/b:latest"},
      {"[::1]:5000/x", "[::1]:5000", "x", "latest", "", "[::1]:5000/x:latest"},
      {"[2001:db8::1]/x", "[2001:db8::1]", "x", "latest", "", "[2001:db8::1]/x:latest"},
      {"foo@" + kDigest, "docker.io", "library/foo", "", kDigest, "foo@" + kDigest},
      {"foo:tag@" + kDigest, "docker.io", "library/foo", "tag", kDigest, "foo:tag@" + kDigest},
      {"library/a/b", "docker.io", "library/a/b", "latest", "", "library/a/b:latest"},
      {"Example.COM/foo", "Example.COM", "foo", "latest", "", "Example.COM/foo:latest"},
      {"registry:5000/foo", "registry:5000", "foo", "latest", "", "registry:5000/foo:latest"},
      {"a__b", "docker.io", "library/a__b", "latest", "", "a__b:latest"},
      {"a.b_c---d", "docker.io", "library/a.b_c---d", "latest", "", "a.b_c---d:latest"},
      {"foo:_Tag.1-x", "docker.io", "library/foo", "_Tag.1-x", "", "foo:_Tag.1-x"},
      {"foo:" + std::string(128, 't'), "docker.io", "library/foo", std::string(128, 't'), "",
       "foo:" + std::string(128, 't')},
      // Without a '/' the first ':' starts the tag, as in Docker: this is image "localhost".
      {"localhost:5000", "docker.io", "library/localhost", "5000", "", "localhost:5000"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    auto ref = Parse(c.input);
    ASSERT_TRUE(ref) << ref.error().ToString();
    EXPECT_EQ(ref->domain, c.domain);
    EXPECT_EQ(ref->path, c.path);
    EXPECT_EQ(ref->tag, c.tag);
    EXPECT_EQ(ref->digest, c.digest);
    EXPECT_EQ(ref->FamiliarString(), c.familiar_string);
    EXPECT_EQ(ref->Name(), c.domain + "/" + c.path);
    // Both printed forms parse back to the same reference.
    auto from_full = Parse(ref->String());
    ASSERT_TRUE(from_full) << from_full.error().ToString();
    EXPECT_EQ(*from_full, *ref);
    auto from_familiar = Parse(ref->FamiliarString());
    ASSERT_TRUE(from_familiar) << from_familiar.error().ToString();
    EXPECT_EQ(*from_familiar, *ref);
  }
}

TEST(ReferenceTest, PrintsNameFamiliarAndString) {
  auto ubuntu = Parse("ubuntu");
  ASSERT_TRUE(ubuntu);
  EXPECT_EQ(ubuntu->Name(), "docker.io/library/ubuntu");
  EXPECT_EQ(ubuntu->Familiar(), "ubuntu");
  EXPECT_EQ(ubuntu->String(), "docker.io/library/ubuntu:latest");

  auto nested = Parse("docker.io/library/a/b");
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->Familiar(), "library/a/b");

  auto local = Parse("localhost:5000/foo");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->Familiar(), "localhost:5000/foo");

  auto both = Parse("foo:tag@" + kDigest);
  ASSERT_TRUE(both);
  EXPECT_EQ(both->String(), "docker.io/library/foo:tag@" + kDigest);
}

struct InvalidCase {
  std::string input;
  std::string message_part;
};

TEST(ReferenceTest, RejectsInvalidReferencesNamingTheProblem) {
  const std::string long_path = std::string(200, 'a') + "/" + std::string(60, 'b');
  const std::vector<InvalidCase> cases = {
      {"", "reference is empty"},
      {"Ubuntu", "invalid reference \"Ubuntu\": repository name must be lowercase"},
      {"Foo", "invalid reference \"Foo\": repository name must be lowercase"},
      {"foo/Bar:1", "repository name must be lowercase"},
      {"ubuntu:", "tag is empty"},
      {"ubuntu:-bad", "tag \"-bad\" must start with a letter, digit or '_'"},
      {"ubuntu:.bad", "tag \".bad\" must start"},
      {"ubuntu:" + std::string(129, 'a'), "tag is 129 characters long; the limit is 128"},
      {"ubuntu:a+b", "tag \"a+b\" has invalid character \"+\""},
      {"a//b", "empty path component"},
      {"a/../b", "path component \"..\" must start and end with a lowercase letter or digit"},
      {"..", "path component \"..\" must start and end"},
      {"a/", "empty path component"},
      {"/a", "empty path component"},
      {"localhost/", "empty path component"},
      {"a..b", "path component \"a..b\" has invalid separator \"..\""},
      {"a___b", "invalid separator \"___\""},
      {"a_-b", "invalid separator \"_-\""},
      {"-a", "path component \"-a\" must start and end"},
      {"a-", "path component \"a-\" must start and end"},
      {std::string(256, 'a'), "repository path \"library/aaa"},
      {std::string(256, 'a'), "is 264 characters long; the limit is 255"},
      {"example.com/" + long_path, "is 261 characters long; the limit is 255"},
      {"ubuntu@sha256:short", "invalid digest \"sha256:short\""},
      {"ubuntu@sha512:" + kHex, "invalid digest"},
      {"ubuntu@" + kDigest.substr(0, 70) + "X", "invalid digest"},
      {" ubuntu", "invalid character space in \" ubuntu\""},
      {"ubuntu ", "invalid character space"},
      {"ubu\tntu", "invalid character \"\\x09\""},
      {"ubuntu: latest", "tag \" latest\" must start"},
      {"a:b:c", "tag \"b:c\" has invalid character \":\""},
      {"foo@bar@" + kDigest, "invalid digest"},
      {kHex, "is an image ID"},
      {"a..b/c", "domain \"a..b\" has an empty host name label"},
      {"-bad.com/c", "host name label \"-bad\""},
      {"exa_mple.com/c", "invalid character \"_\" in host name"},
      {"localhost:/c", "invalid port \":\""},
      {"localhost:50a0/c", "invalid port \":50a0\""},
      {"[::1/c", "lacks ']'"},
      {"[]/c", "invalid character \"[\" in \"[]\""},  // no '.' or ':': a path
      {"[]:5000/c", "invalid IPv6 address"},
      {"[::g]/c", "invalid IPv6 address"},
      {"[::1]x/c", "invalid port \"x\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    auto ref = Parse(c.input);
    ASSERT_FALSE(ref) << ref->String();
    EXPECT_EQ(ref.error().code, Code::kInvalidArgument);
    EXPECT_NE(ref.error().message.find(c.message_part), std::string::npos) << ref.error().message;
  }
}

TEST(ReferenceTest, LengthLimitAppliesToTheNormalisedPath) {
  // 255 characters of path, "library/" included; the domain does not count.
  EXPECT_TRUE(Parse(std::string(247, 'a')));
  EXPECT_FALSE(Parse(std::string(248, 'a')));
  EXPECT_TRUE(Parse("library/" + std::string(247, 'a')));
  EXPECT_FALSE(Parse("docker.io/library/" + std::string(248, 'a')));
  EXPECT_TRUE(Parse("example.com/" + std::string(255, 'a') + ":tag"));
  EXPECT_FALSE(Parse("example.com/" + std::string(256, 'a')));
  EXPECT_TRUE(Parse("a.very.long.registry.name.example.com:5000/" + std::string(255, 'a')));
  // 128 one-letter components: the first is not a domain, so this is docker.io's 255.
  std::string components;
  for (int i = 0; i < 127; ++i) components += "a/";
  EXPECT_TRUE(Parse(components + "a:tag-puts-this-over-max"));
  EXPECT_FALSE(Parse(components + "ab"));
}

TEST(ReferenceTest, ErrorQuotesAreBounded) {
  auto ref = Parse(std::string(10000, 'A'));
  ASSERT_FALSE(ref);
  EXPECT_LT(ref.error().message.size(), 400u);
}

TEST(ReferenceTest, IsValidTag) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"latest", true},
      {"1.0", true},
      {"_x", true},
      {"A-b.c_d", true},
      {"", false},
      {"-x", false},
      {".x", false},
      {"a/b", false},
      {"a:b", false},
      {"a b", false},
      {"é", false},
      {std::string(128, 'x'), true},
      {std::string(129, 'x'), false},
  };
  for (const auto& [tag, valid] : cases) {
    EXPECT_EQ(IsValidTag(tag), valid) << tag;
  }
}

TEST(ParseNameAndTagTest, ParsesSeparateNameAndTag) {
  struct Case {
    std::string name;
    std::string tag;
    std::string expected;  // String() of the result
  };
  const std::vector<Case> cases = {
      {"ubuntu", "", "docker.io/library/ubuntu:latest"},
      {"ubuntu", "22.04", "docker.io/library/ubuntu:22.04"},
      {"docker.io/library/ubuntu", "latest", "docker.io/library/ubuntu:latest"},
      {"lgsd/diamond", "1.0", "docker.io/lgsd/diamond:1.0"},
      {"127.0.0.1:5000/a", "", "127.0.0.1:5000/a:latest"},
      {"localhost:5000/foo/bar", "tag", "localhost:5000/foo/bar:tag"},
      {"[::1]:5000/x", "v1", "[::1]:5000/x:v1"},
      {"ubuntu", kDigest, "docker.io/library/ubuntu@" + kDigest},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name + " " + c.tag);
    auto ref = ParseNameAndTag(c.name, c.tag);
    ASSERT_TRUE(ref) << ref.error().ToString();
    EXPECT_EQ(ref->String(), c.expected);
  }
  auto by_digest = ParseNameAndTag("ubuntu", kDigest);
  ASSERT_TRUE(by_digest);
  EXPECT_EQ(by_digest->tag, "");
  EXPECT_EQ(by_digest->digest, kDigest);
}

TEST(ParseNameAndTagTest, RejectsBadNamesAndTags) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"ubuntu", "-bad", "invalid reference \"ubuntu:-bad\": tag \"-bad\" must start"},
      {"ubuntu", "a b", "tag \"a b\" has invalid character space"},
      {"ubuntu", std::string(129, 'x'), "tag is 129 characters long"},
      {"ubuntu", "sha256:short", "invalid digest \"sha256:short\""},
      {"ubuntu:18.04", "", "repository name \"ubuntu:18.04\" must not carry a tag"},
      {"127.0.0.1:5000/a:1", "2", "must not carry a tag"},
      {"ubuntu@" + kDigest, "", "must not carry a digest"},
      {"Ubuntu", "latest", "repository name must be lowercase"},
      {"", "latest", "repository name is empty"},
      {"a//b", "", "empty path component"},
  };
  for (const auto& [name, tag, message_part] : cases) {
    SCOPED_TRACE(name + " " + tag);
    auto ref = ParseNameAndTag(name, tag);
    ASSERT_FALSE(ref) << ref->String();
    EXPECT_EQ(ref.error().code, Code::kInvalidArgument);
    EXPECT_NE(ref.error().message.find(message_part), std::string::npos) << ref.error().message;
  }
}

// Docker's own rules (distribution/reference v0.6: the grammar, splitDockerDomain and
// ParseNormalizedNamed), case by case: the input, then the normalised name, tag and digest.
struct DockerCase {
  std::string input;
  std::string name;
  std::string tag;
  std::string digest;
};

TEST(DockerRulesTest, NormalisesAsDocker) {
  const std::string hex64 = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";
  const std::string song = "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev";
  const std::string f64(64, 'f');
  const std::vector<DockerCase> cases = {
      {"docker/docker", "docker.io/docker/docker", "latest", ""},
      {"library/debian", "docker.io/library/debian", "latest", ""},
      {"debian", "docker.io/library/debian", "latest", ""},
      {"localhost/library/debian", "localhost/library/debian", "latest", ""},
      {"localhost/debian", "localhost/debian", "latest", ""},
      // A first component with an upper-case letter is a domain.
      {"LOCALDOMAIN/library/debian", "LOCALDOMAIN/library/debian", "latest", ""},
      {"LOCALDOMAIN/debian", "LOCALDOMAIN/debian", "latest", ""},
      {"Docker/docker", "Docker/docker", "latest", ""},
      {"DOCKER/docker", "DOCKER/docker", "latest", ""},
      {"MyRegistry/foo", "MyRegistry/foo", "latest", ""},
      {"Foo/bar:1", "Foo/bar", "1", ""},
      {"docker.io/docker/docker", "docker.io/docker/docker", "latest", ""},
      {"docker.io/library/debian", "docker.io/library/debian", "latest", ""},
      {"docker.io/debian", "docker.io/library/debian", "latest", ""},
      {"index.docker.io/docker/docker", "docker.io/docker/docker", "latest", ""},
      {"index.docker.io/library/debian", "docker.io/library/debian", "latest", ""},
      {"index.docker.io/debian", "docker.io/library/debian", "latest", ""},
      {"127.0.0.1:5000/docker/docker", "127.0.0.1:5000/docker/docker", "latest", ""},
      {"127.0.0.1:5000/library/debian", "127.0.0.1:5000/library/debian", "latest", ""},
      {"127.0.0.1:5000/debian", "127.0.0.1:5000/debian", "latest", ""},
      // Without a '/' nothing is a domain: an address is a path, its port a tag.
      {"192.168.0.1", "docker.io/library/192.168.0.1", "latest", ""},
      {"192.168.0.1:80", "docker.io/library/192.168.0.1", "80", ""},
      {"192.168.0.1:8/debian", "192.168.0.1:8/debian", "latest", ""},
      {"192.168.0.2:25000/debian", "192.168.0.2:25000/debian", "latest", ""},
      {"foo_bar.com:8080", "docker.io/library/foo_bar.com", "8080", ""},
      {"foo/foo_bar.com:8080", "docker.io/foo/foo_bar.com", "8080", ""},
      {"[2001:db8::1]/debian", "[2001:db8::1]/debian", "latest", ""},
      {"[2001:db8::1]:5000/debian", "[2001:db8::1]:5000/debian", "latest", ""},
      {"[2001:db8::]:5000/repo", "[2001:db8::]:5000/repo", "latest", ""},
      {"[fc00::1]:5000/docker", "[fc00::1]:5000/docker", "latest", ""},
      {"[fc00::1]:5000/docker/docker", "[fc00::1]:5000/docker/docker", "latest", ""},
      {"[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
       "latest", ""},
      {"[2001:db8::1]:5000/repo:tag@sha256:" + f64, "[2001:db8::1]:5000/repo", "tag",
       "sha256:" + f64},
      {song, "docker.io/library/" + song, "latest", ""},
      // A 64-hex name is refused only when it is the whole reference.
      {"docker.io/" + hex64, "docker.io/library/" + hex64, "latest", ""},
      {hex64 + ":latest", "docker.io/library/" + hex64, "latest", ""},
      {"docker-rules/docker", "docker.io/docker-rules/docker", "latest", ""},
      {"docker---rules/docker", "docker.io/docker---rules/docker", "latest", ""},
      {"doc/docker", "docker.io/doc/docker", "latest", ""},
      {"d/docker", "docker.io/d/docker", "latest", ""},
      {"jess/t", "docker.io/jess/t", "latest", ""},
      {"dock__er/docker", "docker.io/dock__er/docker", "latest", ""},
      {"test_com", "docker.io/library/test_com", "latest", ""},
      {"test.com:tag", "docker.io/library/test.com", "tag", ""},
      {"test:5000/repo@sha256:" + f64, "test:5000/repo", "", "sha256:" + f64},
      {"lowercase:Uppercase", "docker.io/library/lowercase", "Uppercase", ""},
      {"sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com/bar/baz/quux",
       "some-long-tag", ""},
      {"b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io/test.example.com/my-app",
       "test.example.com", ""},
      {"xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com/myimage", "xn--n3h.com", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    auto ref = Parse(c.input);
    ASSERT_TRUE(ref) << ref.error().ToString();
    EXPECT_EQ(ref->Name(), c.name);
    EXPECT_EQ(ref->tag, c.tag);
    EXPECT_EQ(ref->digest, c.digest);
  }
}

TEST(DockerRulesTest, FamiliarNamesAsDocker) {
  // Each spelling of a name, and the familiar form Docker shows for it.
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"localhost/fooo"}, "localhost/fooo"},
      {{"LOCALDOMAIN/fooo/bar"}, "LOCALDOMAIN/fooo/bar"},
      {{"fooo/bar", "docker.io/fooo/bar", "index.docker.io/fooo/bar"}, "fooo/bar"},
      {{"ubuntu", "library/ubuntu", "docker.io/library/ubuntu"}, "ubuntu"},
      {{"nonlibrary/ubuntu", "docker.io/nonlibrary/ubuntu"}, "nonlibrary/ubuntu"},
      {{"other/library"}, "other/library"},
      {{"127.0.0.1:8000/private/moonbase"}, "127.0.0.1:8000/private/moonbase"},
      {{"example.com:8000/privatebasee"}, "example.com:8000/privatebasee"},
      {{"[2001:db8::1]:5000/repo"}, "[2001:db8::1]:5000/repo"},
      {{"MyRegistry/foo"}, "MyRegistry/foo"},
      {{"ubuntu-12.04-base", "index.docker.io/library/ubuntu-12.04-base"}, "ubuntu-12.04-base"},
      {{"foo", "docker.io/foo"}, "foo"},
      {{"library/foo/bar", "docker.io/library/foo/bar"}, "library/foo/bar"},
      {{"store/foo/bar"}, "store/foo/bar"},
      {{"Foo/bar"}, "Foo/bar"},
  };
  for (const auto& [spellings, familiar] : cases) {
    for (const auto& spelling : spellings) {
      SCOPED_TRACE(spelling);
      auto ref = Parse(spelling);
      ASSERT_TRUE(ref) << ref.error().ToString();
      EXPECT_EQ(ref->Familiar(), familiar);
    }
  }
}

TEST(DockerRulesTest, RefusesWhatDockerRefuses) {
  const std::string hex64 = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";
  const std::string f64(64, 'f');
  std::vector<std::string> cases = {
      "",
      "https://github.com/docker/docker",
      "docker/Docker",
      "docker.io/docker/Docker",
      "Uppercase:tag",
      "test:5000/Uppercase/lowercase:tag",
      "localhost:5000/Foo",
      "-docker",
      "-docker/docker",
      "-docker.io/docker/docker",
      "docker///docker",
      "docker.io/docker///docker",
      "[fc00::1]",
      "[fc00::1]:5000",
      "[2001:db8::1]:tag",
      "fc00::1:5000/debian",
      "[fe80::1%eth0]:5000/debian",
      "[fe80::1%@invalidzone]:5000/repo",
      "[2001:db8:3:4::192.0.2.33]:5000/debian",
      "[::ffff:192.168.0.1]/docker",
      hex64,
      "docker-/docker",
      "-docker-/docker",
      "____/____",
      "_docker/_docker",
      "dock..er/docker",
      "dock_.er/docker",
      "dock-.er/docker",
      "docker/",
      "aa/asdf$$^/aa",
      std::string(256, 'n') + "/docker",
      "domain/" + std::string(256, 'a') + ":tag",
      "docker.artifactory.us.foo.mycompany.com/bar/node?18",
      "123.dkr.ecr.eu-west-1.amazonaws.com:lol/abc:d",
      ":justtag",
      "@sha256:" + f64,
      "repo@sha256:" + std::string(34, 'f'),
      "validname@invaliddigest:" + f64,
      "repo@sha256:" + std::string(64, 'F'),
      "yay:\xc9\xb0oo",
      "yay:\xc3\xa9oo",
  };
  for (char c : std::string("[]$()`&|<>;,\n{}'\"")) {
    cases.push_back("abcdefghijklmnopqrst:0.15" + std::string(1, c) + ".0");
  }
  for (const auto& input : cases) {
    SCOPED_TRACE(input);
    auto ref = Parse(input);
    ASSERT_FALSE(ref) << ref->String();
    EXPECT_EQ(ref.error().code, Code::kInvalidArgument);
  }
}

TEST(DockerRulesTest, SeparateNameAndTagFollowTheSameRules) {
  auto upper_domain = ParseNameAndTag("LOCALDOMAIN/debian", "1");
  ASSERT_TRUE(upper_domain) << upper_domain.error().ToString();
  EXPECT_EQ(upper_domain->domain, "LOCALDOMAIN");
  EXPECT_EQ(upper_domain->path, "debian");
  const std::string hex64(64, 'a');
  EXPECT_FALSE(ParseNameAndTag(hex64, ""));
  auto tagged = ParseNameAndTag(hex64, "latest");
  ASSERT_TRUE(tagged) << tagged.error().ToString();
  EXPECT_EQ(tagged->path, "library/" + hex64);
  EXPECT_TRUE(ParseNameAndTag(std::string(247, 'a'), "latest"));
  EXPECT_FALSE(ParseNameAndTag(std::string(248, 'a'), "latest"));
}

}  // namespace
}  // namespace wharf::reference
