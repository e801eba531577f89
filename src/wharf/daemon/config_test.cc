#include "wharf/daemon/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace wharf::daemon {
namespace {

TEST(ConfigTest, DefaultsWhenEmpty) {
  auto c = ParseConfig("", "t.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->listen, "127.0.0.1:8080");
  EXPECT_EQ(c->data_dir, "var");
  EXPECT_EQ(c->session_ttl_s, 86400);
  EXPECT_EQ(c->dockerhub_registry, "https://registry-1.docker.io");
  EXPECT_EQ(c->dockerhub_index, "https://index.docker.io");
  EXPECT_TRUE(c->dockerhub_mirrors.empty());
  EXPECT_EQ(c->max_concurrent, 3);
  EXPECT_EQ(c->failed_ttl_s, 600);
  EXPECT_EQ(c->platform, "");
}

TEST(ConfigTest, ReadsEveryDocumentedKey) {
  auto c = ParseConfig(R"(
listen = "0.0.0.0:9000"
data_dir = "/srv/wharf"
tls_cert = "/etc/wharf/cert.pem"
tls_key = "/etc/wharf/key.pem"
log_level = "debug"
[auth]
session_ttl_s = 60
[dockerhub]
registry = "http://127.0.0.1:5000"
index = "http://127.0.0.1:5000"
mirrors = ["https://mirror.example:5000"]
search_timeout_s = 4
[catalogs]
appcenter = "https://catalog.example/appcenter.json"
official = "/srv/official.json"
refresh_s = 120
[lxc]
cache_dir = "/var/cache/lxc/download"
[registries."127.0.0.1:5001"]
insecure = true
ca_file = "/etc/ca.pem"
username = "u"
password = "p"
[downloads]
max_concurrent = 5
failed_ttl_s = 30
platform = "linux/arm64/v8"
attempts = 2
stall_timeout_s = 7
)",
                       "t.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->listen, "0.0.0.0:9000");
  EXPECT_EQ(c->data_dir, "/srv/wharf");
  EXPECT_EQ(c->log_level, "debug");
  EXPECT_EQ(c->tls_cert, "/etc/wharf/cert.pem");
  EXPECT_EQ(c->tls_key, "/etc/wharf/key.pem");
  EXPECT_TRUE(HoldsCredentials(*c));
  EXPECT_EQ(c->session_ttl_s, 60);
  EXPECT_EQ(c->dockerhub_registry, "http://127.0.0.1:5000");
  ASSERT_EQ(c->dockerhub_mirrors.size(), 1u);
  ASSERT_TRUE(c->registries.contains("127.0.0.1:5001"));
  const auto& r = c->registries.at("127.0.0.1:5001");
  EXPECT_TRUE(r.insecure);
  EXPECT_EQ(r.ca_file, "/etc/ca.pem");
  EXPECT_EQ(r.username, "u");
  EXPECT_EQ(r.password, "p");
  EXPECT_EQ(c->max_concurrent, 5);
  EXPECT_EQ(c->failed_ttl_s, 30);
  EXPECT_EQ(c->platform, "linux/arm64/v8");
  EXPECT_EQ(c->attempts, 2);
  EXPECT_EQ(c->stall_timeout_s, 7);
  EXPECT_EQ(c->search_timeout_s, 4);
  EXPECT_EQ(c->catalog_appcenter, "https://catalog.example/appcenter.json");
  EXPECT_EQ(c->catalog_official, "/srv/official.json");
  EXPECT_EQ(c->catalog_refresh_s, 120);
  EXPECT_EQ(c->lxc_cache_dir, "/var/cache/lxc/download");
}

TEST(ConfigTest, ErrorsNameTheFileAndKey) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"lisen = \"x:1\"", "t.toml: lisen: unknown key"},
      {"[downloads]\nmax_concurent = 2", "t.toml: downloads.max_concurent: unknown key"},
      {"[downloads]\nmax_concurrent = \"2\"", "downloads.max_concurrent: expected an integer"},
      {"[downloads]\nmax_concurrent = 0", "downloads.max_concurrent: must be greater than 0"},
      {"[auth]\nsession_ttl_s = true", "auth.session_ttl_s: expected an integer"},
      {"[dockerhub]\nmirrors = [1]", "dockerhub.mirrors: expected an array of strings"},
      {"[dockerhub]\nregistry = \"ftp://x\"", "dockerhub.registry: must be an http"},
      {"[registries.\"h:1\"]\nuser = \"x\"", "registries.\"h:1\".user: unknown key"},
      {"[registries.\"h:1\"]\ninsecure = \"yes\"",
       "registries.\"h:1\".insecure: expected a boolean"},
      {"listen = \"nonsense\"", "listen:"},
      {"log_level = \"loud\"", "log_level: must be one of"},
      {"tls_cert = \"c.pem\"", "tls_key: tls_cert and tls_key must be set together"},
      {"auth = 3", "auth: expected a table"},
      {"[dockerhub]\nmirrors = [\"m:5000\"]", "dockerhub.mirrors: \"m:5000\" must be an http"},
      {"[catalogs]\nrefresh_s = -1", "catalogs.refresh_s: must be greater than 0"},
      {"[lxc]\ncache = \"x\"", "lxc.cache: unknown key"},
      {"[downloads]\nattempts = 0", "downloads.attempts: must be greater than 0"},
      {"[http]\nheader_timeout_s = 0", "http.header_timeout_s: must be greater than 0"},
      {"[http]\nheader_timeout = 5", "http.header_timeout: unknown key"},
      {"allowed_hosts = \"nas.lan\"", "allowed_hosts: expected an array of strings"},
      {"listen = ", "t.toml:1:"},
  };
  for (const auto& c : cases) {
    auto r = ParseConfig(c.text, "t.toml");
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos)
        << c.text << " → " << r.error().message;
  }
}

TEST(ConfigTest, SplitHostPort) {
  EXPECT_EQ(*SplitHostPort("127.0.0.1:8080"), std::make_pair(std::string("127.0.0.1"), 8080));
  EXPECT_EQ(*SplitHostPort("[::1]:80"), std::make_pair(std::string("::1"), 80));
  EXPECT_FALSE(SplitHostPort("127.0.0.1"));
  EXPECT_FALSE(SplitHostPort("h:99999"));
  EXPECT_FALSE(SplitHostPort("h:8x"));
}

TEST(ConfigTest, ShippedExampleParses) {
  auto c = LoadConfig(std::filesystem::path(WHARF_SOURCE_DIR) / "etc" / "wharf.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->listen, "127.0.0.1:8080");
  // The example shows the defaults.
  Config defaults;
  EXPECT_EQ(c->max_connections, defaults.max_connections);
  EXPECT_EQ(c->http.header_timeout_s, defaults.http.header_timeout_s);
  EXPECT_EQ(c->http.max_event_streams_per_user, defaults.http.max_event_streams_per_user);
  EXPECT_EQ(c->http.upstream_timeout_s, defaults.http.upstream_timeout_s);
  EXPECT_EQ(c->engine.socket, "");
  EXPECT_EQ(c->engine.remove_on_delete, defaults.engine.remove_on_delete);
  EXPECT_EQ(c->engine.timeout_s, defaults.engine.timeout_s);
}

TEST(ConfigTest, Engine) {
  auto off = ParseConfig("", "t.toml");
  ASSERT_TRUE(off);
  EXPECT_EQ(off->engine.socket, "");
  EXPECT_FALSE(off->engine.remove_on_delete);
  auto c = ParseConfig(
      "[engine]\nsocket = \"/run/podman/podman.sock\"\nremove_on_delete = true\ntimeout_s = 9\n",
      "t.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->engine.socket, "/run/podman/podman.sock");
  EXPECT_TRUE(c->engine.remove_on_delete);
  EXPECT_EQ(c->engine.timeout_s, 9);
  for (auto [text, message] :
       {std::pair{"[engine]\nsocket = 1", "engine.socket: expected a string"},
        std::pair{"[engine]\nremove_on_delete = \"yes\"",
                  "engine.remove_on_delete: expected a boolean"},
        std::pair{"[engine]\ntimeout_s = 0", "engine.timeout_s: must be greater"},
        std::pair{"[engine]\nsocker = \"x\"", "engine.socker: unknown key"}}) {
    auto bad = ParseConfig(text, "t.toml");
    ASSERT_FALSE(bad) << text;
    EXPECT_NE(bad.error().message.find(message), std::string::npos) << bad.error().message;
  }
}

TEST(ConfigTest, Serve) {
  auto defaults = ParseConfig("", "t.toml");
  ASSERT_TRUE(defaults);
  EXPECT_TRUE(defaults->serve.enabled);
  EXPECT_FALSE(defaults->serve.anonymous);
  EXPECT_FALSE(defaults->serve.pull_through);
  auto c = ParseConfig(
      "[serve]\nenabled = false\nanonymous = true\npull_through = true\n"
      "pull_through_wait_s = 30\ntoken_ttl_s = 60\n",
      "t.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->serve.enabled);
  EXPECT_TRUE(c->serve.anonymous);
  EXPECT_TRUE(c->serve.pull_through);
  EXPECT_EQ(c->serve.pull_through_wait_s, 30);
  EXPECT_EQ(c->serve.token_ttl_s, 60);
  for (auto [text, message] :
       {std::pair{"[serve]\nanonymous = 1", "serve.anonymous: expected a boolean"},
        std::pair{"[serve]\ntoken_ttl_s = 0", "serve.token_ttl_s: must be greater"},
        std::pair{"[serve]\npull_through_wait_s = -1", "serve.pull_through_wait_s: must be"},
        std::pair{"[serve]\npullthrough = true", "serve.pullthrough: unknown key"}}) {
    auto bad = ParseConfig(text, "t.toml");
    ASSERT_FALSE(bad) << text;
    EXPECT_NE(bad.error().message.find(message), std::string::npos) << bad.error().message;
  }
}

TEST(ConfigTest, Imports) {
  auto defaults = ParseConfig("", "t.toml");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->imports.max_bytes, int64_t{64} << 30);
  auto c = ParseConfig("[imports]\nmax_bytes = 1048576\n", "t.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->imports.max_bytes, 1048576);
  for (auto [text, message] :
       {std::pair{"[imports]\nmax_bytes = 0", "imports.max_bytes: must be greater"},
        std::pair{"[imports]\nmax_size = 1", "imports.max_size: unknown key"}}) {
    auto bad = ParseConfig(text, "t.toml");
    ASSERT_FALSE(bad) << text;
    EXPECT_NE(bad.error().message.find(message), std::string::npos) << bad.error().message;
  }
}

TEST(ConfigTest, UnpackBoundsAndLxcChecks) {
  auto defaults = ParseConfig("", "t.toml");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->max_unpacked_bytes, int64_t{64} << 30);
  EXPECT_EQ(defaults->max_unpack_ratio, 100);
  EXPECT_FALSE(defaults->lxc_allow_special_files);
  EXPECT_TRUE(defaults->lxc_require_sha256sums);
  auto c = ParseConfig(
      "[downloads]\nmax_unpacked_bytes = 4096\nmax_unpack_ratio = 0\n"
      "[lxc]\nallow_special_files = true\nrequire_sha256sums = false\n",
      "t.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->max_unpacked_bytes, 4096);
  EXPECT_EQ(c->max_unpack_ratio, 0);
  EXPECT_TRUE(c->lxc_allow_special_files);
  EXPECT_FALSE(c->lxc_require_sha256sums);
  for (auto [text, message] :
       {std::pair{"[downloads]\nmax_unpacked_bytes = 0", "downloads.max_unpacked_bytes: must be"},
        std::pair{"[downloads]\nmax_unpack_ratio = -1", "downloads.max_unpack_ratio: must be 0"},
        std::pair{"[lxc]\nallow_special_files = 1",
                  "lxc.allow_special_files: expected a boolean"}}) {
    auto bad = ParseConfig(text, "t.toml");
    ASSERT_FALSE(bad) << text;
    EXPECT_NE(bad.error().message.find(message), std::string::npos) << bad.error().message;
  }
}

TEST(ConfigTest, Updates) {
  auto defaults = ParseConfig("", "t.toml");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->updates.check_interval_s, 21600);
  EXPECT_EQ(defaults->updates.webhook_url, "");
  auto off = ParseConfig(
      "[updates]\ncheck_interval_s = 0\nwebhook_url = \"https://hooks.lan/wharf\"\n", "t.toml");
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_EQ(off->updates.check_interval_s, 0);
  EXPECT_EQ(off->updates.webhook_url, "https://hooks.lan/wharf");
  for (auto [text, message] :
       {std::pair{"[updates]\ncheck_interval_s = -1", "updates.check_interval_s: must be 0"},
        std::pair{"[updates]\ninterval = 5", "updates.interval: unknown key"},
        std::pair{"[updates]\nwebhook_url = \"hooks.lan\"", "updates.webhook_url: must be an"},
        std::pair{"[updates]\nwebhook_url = 1", "updates.webhook_url: expected a string"}}) {
    auto bad = ParseConfig(text, "t.toml");
    ASSERT_FALSE(bad) << text;
    EXPECT_NE(bad.error().message.find(message), std::string::npos) << bad.error().message;
  }
}

TEST(ConfigTest, SecurityUserRegistries) {
  auto defaults = ParseConfig("", "t.toml");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->user_registries, "configured");
  auto any = ParseConfig("[security]\nuser_registries = \"any\"\n", "t.toml");
  ASSERT_TRUE(any) << any.error().message;
  EXPECT_EQ(any->user_registries, "any");
  for (auto [text, message] :
       {std::pair{"[security]\nuser_registries = \"all\"",
                  "security.user_registries: must be \"configured\" or \"any\""},
        std::pair{"[security]\nregistries = 1", "security.registries: unknown key"}}) {
    auto bad = ParseConfig(text, "t.toml");
    ASSERT_FALSE(bad) << text;
    EXPECT_NE(bad.error().message.find(message), std::string::npos) << bad.error().message;
  }
}

TEST(ConfigTest, HttpLimits) {
  auto c = ParseConfig(
      "allowed_hosts = [\"nas.lan\"]\n[http]\nmax_connections_per_client = 5\n"
      "header_timeout_s = 3\nmin_rate_bytes_s = 100\n",
      "t.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->allowed_hosts, std::vector<std::string>{"nas.lan"});
  EXPECT_EQ(c->http.max_connections_per_client, 5);
  EXPECT_EQ(c->http.header_timeout_s, 3);
  EXPECT_EQ(c->http.min_rate_bytes_s, 100);
  EXPECT_EQ(c->http.idle_timeout_s, 30);  // the default
}

// A registries file of the test's own, written with `mode`.
std::filesystem::path RegistriesFile(const std::string& name, const std::string& text,
                                     unsigned mode) {
  auto dir =
      std::filesystem::temp_directory_path() / ("wharf-config-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto file = dir / name;
  std::ofstream(file) << text;
  ::chmod(file.c_str(), mode);
  return file;
}

TEST(ConfigTest, RegistriesFileAddsItsTablesWhenPrivate) {
  auto file = RegistriesFile("registries.toml",
                             "[registries.\"r.example:5000\"]\nusername = \"u\"\n"
                             "password = \"p\"\n",
                             0600);
  auto c = ParseConfig("registries_file = \"" + file.string() +
                           "\"\n[registries.\"other.example\"]\ninsecure = true\n",
                       "t.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->registries_file, file.string());
  auto full = WithRegistriesFiles(*c);
  ASSERT_TRUE(full) << full.error().message;
  ASSERT_EQ(full->registries.size(), 2u);
  EXPECT_EQ(full->registries["r.example:5000"].password, "p");
  EXPECT_TRUE(full->registries["other.example"].insecure);

  ::chmod(file.c_str(), 0644);
  auto open = WithRegistriesFiles(*c);
  ASSERT_FALSE(open);
  EXPECT_NE(open.error().message.find(file.string()), std::string::npos);
  EXPECT_NE(open.error().message.find("0644"), std::string::npos) << open.error().message;
  std::filesystem::remove_all(file.parent_path());
}

TEST(ConfigTest, RegistriesFileHoldsOnlyRegistriesAndNoHostTwice) {
  auto file = RegistriesFile("other.toml", "listen = \"0.0.0.0:1\"\n", 0600);
  Config c;
  c.registries_file = file.string();
  auto other = WithRegistriesFiles(c);
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("listen"), std::string::npos) << other.error().message;

  file = RegistriesFile("twice.toml", "[registries.\"r.example\"]\nusername = \"u\"\n", 0600);
  c.registries_file = file.string();
  c.registries["r.example"] = RegistryConfig{};
  auto twice = WithRegistriesFiles(c);
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("both"), std::string::npos) << twice.error().message;

  // $CREDENTIALS_DIRECTORY/registries, as systemd's LoadCredential= leaves it.
  RegistriesFile("registries", "[registries.\"cred.example\"]\nusername = \"c\"\n", 0400);
  ::setenv("CREDENTIALS_DIRECTORY", file.parent_path().c_str(), 1);
  auto credential = WithRegistriesFiles(Config{});
  ::unsetenv("CREDENTIALS_DIRECTORY");
  ASSERT_TRUE(credential) << credential.error().message;
  EXPECT_EQ(credential->registries["cred.example"].username, "c");
  std::filesystem::remove_all(file.parent_path());
}

}  // namespace
}  // namespace wharf::daemon
