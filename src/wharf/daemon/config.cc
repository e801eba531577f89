#include "wharf/daemon/config.h"

#include <sys/stat.h>
#include <toml++/toml.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>

#include "wharf/base/file_util.h"

namespace wharf::daemon {

namespace {

// Reads typed values out of one TOML table, remembering which keys were consumed so that
// leftovers can be reported as unknown.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string prefix, std::string origin)
      : table_(table), prefix_(std::move(prefix)), origin_(std::move(origin)) {}

  Error Bad(std::string_view key, std::string_view what) const {
    return InvalidArgument(origin_ + ": " + prefix_ + std::string(key) + ": " + std::string(what));
  }

  template <typename T>
  Result<void> Read(std::string_view key, T& out) {
    seen_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node == nullptr) return {};
    if constexpr (std::is_same_v<T, bool>) {
      if (!node->is_boolean()) return Bad(key, "expected a boolean");
      out = node->as_boolean()->get();
    } else if constexpr (std::is_same_v<T, int64_t>) {
      if (!node->is_integer()) return Bad(key, "expected an integer");
      out = node->as_integer()->get();
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!node->is_string()) return Bad(key, "expected a string");
      out = node->as_string()->get();
    } else {
      if (!node->is_array()) return Bad(key, "expected an array of strings");
      out.clear();
      for (const toml::node& item : *node->as_array()) {
        if (!item.is_string()) return Bad(key, "expected an array of strings");
        out.push_back(item.as_string()->get());
      }
    }
    return {};
  }

  // A sub-table; absent = empty. Marks the key as known.
  Result<const toml::table*> Table(std::string_view key) {
    seen_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node == nullptr) return static_cast<const toml::table*>(&kEmpty);
    if (!node->is_table()) return Bad(key, "expected a table");
    return node->as_table();
  }

  Result<void> RejectUnknown() const {
    for (const auto& [key, value] : table_) {
      (void)value;
      if (!seen_.contains(std::string(key.str()))) return Bad(key.str(), "unknown key");
    }
    return {};
  }

 private:
  static inline const toml::table kEmpty{};
  const toml::table& table_;
  std::string prefix_;
  std::string origin_;
  std::set<std::string> seen_;
};

Result<void> CheckPositive(TableReader& r, std::string_view key, int64_t value) {
  if (value <= 0) return r.Bad(key, "must be greater than 0");
  return {};
}

Result<void> ParseHttp(TableReader& top, HttpConfig& c, const std::string& origin) {
  auto table = top.Table("http");
  if (!table) return Error(table.error());
  TableReader r(**table, "http.", origin);
  for (auto [key, field] : {std::pair{"max_connections_per_client", &c.max_connections_per_client},
                            std::pair{"header_timeout_s", &c.header_timeout_s},
                            std::pair{"body_timeout_s", &c.body_timeout_s},
                            std::pair{"idle_timeout_s", &c.idle_timeout_s},
                            std::pair{"write_timeout_s", &c.write_timeout_s},
                            std::pair{"min_rate_bytes_s", &c.min_rate_bytes_s},
                            std::pair{"max_event_streams", &c.max_event_streams},
                            std::pair{"max_event_streams_per_user", &c.max_event_streams_per_user},
                            std::pair{"upstream_timeout_s", &c.upstream_timeout_s}}) {
    WHARF_RETURN_IF_ERROR(r.Read(key, *field));
    WHARF_RETURN_IF_ERROR(CheckPositive(r, key, *field));
  }
  return r.RejectUnknown();
}

Result<void> ParseEngine(TableReader& top, EngineConfig& c, const std::string& origin) {
  auto table = top.Table("engine");
  if (!table) return Error(table.error());
  TableReader r(**table, "engine.", origin);
  WHARF_RETURN_IF_ERROR(r.Read("socket", c.socket));
  WHARF_RETURN_IF_ERROR(r.Read("remove_on_delete", c.remove_on_delete));
  WHARF_RETURN_IF_ERROR(r.Read("timeout_s", c.timeout_s));
  WHARF_RETURN_IF_ERROR(CheckPositive(r, "timeout_s", c.timeout_s));
  return r.RejectUnknown();
}

Result<void> ParseServe(TableReader& top, ServeConfig& c, const std::string& origin) {
  auto table = top.Table("serve");
  if (!table) return Error(table.error());
  TableReader r(**table, "serve.", origin);
  WHARF_RETURN_IF_ERROR(r.Read("enabled", c.enabled));
  WHARF_RETURN_IF_ERROR(r.Read("anonymous", c.anonymous));
  WHARF_RETURN_IF_ERROR(r.Read("pull_through", c.pull_through));
  for (auto [key, field] : {std::pair{"token_ttl_s", &c.token_ttl_s},
                            std::pair{"pull_through_wait_s", &c.pull_through_wait_s}}) {
    WHARF_RETURN_IF_ERROR(r.Read(key, *field));
    WHARF_RETURN_IF_ERROR(CheckPositive(r, key, *field));
  }
  return r.RejectUnknown();
}

Result<void> ParseImports(TableReader& top, ImportsConfig& c, const std::string& origin) {
  auto table = top.Table("imports");
  if (!table) return Error(table.error());
  TableReader r(**table, "imports.", origin);
  WHARF_RETURN_IF_ERROR(r.Read("max_bytes", c.max_bytes));
  WHARF_RETURN_IF_ERROR(CheckPositive(r, "max_bytes", c.max_bytes));
  return r.RejectUnknown();
}

Result<void> ParseSecurity(TableReader& top, Config& c, const std::string& origin) {
  auto table = top.Table("security");
  if (!table) return Error(table.error());
  TableReader r(**table, "security.", origin);
  WHARF_RETURN_IF_ERROR(r.Read("user_registries", c.user_registries));
  if (c.user_registries != "configured" && c.user_registries != "any") {
    return r.Bad("user_registries", "must be \"configured\" or \"any\"");
  }
  return r.RejectUnknown();
}

Result<void> ParseUpdates(TableReader& top, UpdatesConfig& c, const std::string& origin) {
  auto table = top.Table("updates");
  if (!table) return Error(table.error());
  TableReader r(**table, "updates.", origin);
  WHARF_RETURN_IF_ERROR(r.Read("check_interval_s", c.check_interval_s));
  if (c.check_interval_s < 0) return r.Bad("check_interval_s", "must be 0 (never) or more");
  WHARF_RETURN_IF_ERROR(r.Read("webhook_url", c.webhook_url));
  if (!c.webhook_url.empty() && !c.webhook_url.starts_with("http://") &&
      !c.webhook_url.starts_with("https://")) {
    return r.Bad("webhook_url", "must be an http:// or https:// URL, or empty");
  }
  return r.RejectUnknown();
}

}  // namespace

Result<std::pair<std::string, int>> SplitHostPort(std::string_view listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return InvalidArgument("listen address \"" + std::string(listen) + "\" is not HOST:PORT");
  }
  std::string host(listen.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string_view port_text = listen.substr(colon + 1);
  int port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    return InvalidArgument("listen address \"" + std::string(listen) + "\" has a bad port");
  }
  return std::make_pair(host, port);
}

namespace {

// The top-level keys.
Result<void> ParseTop(TableReader& top, Config& c, const std::string& o) {
  WHARF_RETURN_IF_ERROR(top.Read("listen", c.listen));
  WHARF_RETURN_IF_ERROR(top.Read("data_dir", c.data_dir));
  WHARF_RETURN_IF_ERROR(top.Read("log_level", c.log_level));
  WHARF_RETURN_IF_ERROR(top.Read("tls_cert", c.tls_cert));
  WHARF_RETURN_IF_ERROR(top.Read("tls_key", c.tls_key));
  WHARF_RETURN_IF_ERROR(top.Read("max_connections", c.max_connections));
  WHARF_RETURN_IF_ERROR(CheckPositive(top, "max_connections", c.max_connections));
  WHARF_RETURN_IF_ERROR(top.Read("allowed_hosts", c.allowed_hosts));
  WHARF_RETURN_IF_ERROR(top.Read("registries_file", c.registries_file));
  WHARF_RETURN_IF_ERROR(ParseHttp(top, c.http, o));
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return top.Bad(c.tls_cert.empty() ? "tls_cert" : "tls_key",
                   "tls_cert and tls_key must be set together");
  }
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
  if (!kLevels.contains(c.log_level)) {
    return top.Bad("log_level", "must be one of trace, debug, info, warn, error");
  }
  if (auto hp = SplitHostPort(c.listen); !hp) return top.Bad("listen", hp.error().message);
  return {};
}

Result<void> ParseHub(TableReader& top, Config& c, const std::string& o) {
  auto hub = top.Table("dockerhub");
  if (!hub) return Error(hub.error());
  TableReader h(**hub, "dockerhub.", o);
  WHARF_RETURN_IF_ERROR(h.Read("registry", c.dockerhub_registry));
  WHARF_RETURN_IF_ERROR(h.Read("index", c.dockerhub_index));
  WHARF_RETURN_IF_ERROR(h.Read("mirrors", c.dockerhub_mirrors));
  WHARF_RETURN_IF_ERROR(h.Read("search_timeout_s", c.search_timeout_s));
  WHARF_RETURN_IF_ERROR(CheckPositive(h, "search_timeout_s", c.search_timeout_s));
  for (const auto& m : c.dockerhub_mirrors) {
    if (!m.starts_with("http://") && !m.starts_with("https://")) {
      return h.Bad("mirrors", "\"" + m + "\" must be an http:// or https:// URL");
    }
  }
  for (const auto* url : {&c.dockerhub_registry, &c.dockerhub_index}) {
    if (!url->starts_with("http://") && !url->starts_with("https://")) {
      return h.Bad(url == &c.dockerhub_registry ? "registry" : "index",
                   "must be an http:// or https:// URL");
    }
  }
  return h.RejectUnknown();
}

Result<void> ParseRegistries(TableReader& top, Config& c, const std::string& o) {
  auto regs = top.Table("registries");
  if (!regs) return Error(regs.error());
  for (const auto& [host, node] : **regs) {
    std::string prefix = "registries.\"" + std::string(host.str()) + "\".";
    if (!node.is_table()) {
      return TableReader(**regs, "registries.", o).Bad(host.str(), "expected a table");
    }
    TableReader r(*node.as_table(), prefix, o);
    RegistryConfig rc;
    WHARF_RETURN_IF_ERROR(r.Read("insecure", rc.insecure));
    WHARF_RETURN_IF_ERROR(r.Read("ca_file", rc.ca_file));
    WHARF_RETURN_IF_ERROR(r.Read("username", rc.username));
    WHARF_RETURN_IF_ERROR(r.Read("password", rc.password));
    WHARF_RETURN_IF_ERROR(r.RejectUnknown());
    c.registries[std::string(host.str())] = rc;
  }
  return {};
}

// [auth], [catalogs], [lxc] and [downloads].
Result<void> ParseSmallTables(TableReader& top, Config& c, const std::string& o) {
  auto auth = top.Table("auth");
  auto cat = top.Table("catalogs");
  auto lxc = top.Table("lxc");
  auto dl = top.Table("downloads");
  for (const auto* t : {&auth, &cat, &lxc, &dl}) {
    if (!*t) return Error(t->error());
  }
  TableReader a(**auth, "auth.", o);
  WHARF_RETURN_IF_ERROR(a.Read("session_ttl_s", c.session_ttl_s));
  WHARF_RETURN_IF_ERROR(CheckPositive(a, "session_ttl_s", c.session_ttl_s));
  TableReader k(**cat, "catalogs.", o);
  WHARF_RETURN_IF_ERROR(k.Read("appcenter", c.catalog_appcenter));
  WHARF_RETURN_IF_ERROR(k.Read("official", c.catalog_official));
  WHARF_RETURN_IF_ERROR(k.Read("refresh_s", c.catalog_refresh_s));
  WHARF_RETURN_IF_ERROR(CheckPositive(k, "refresh_s", c.catalog_refresh_s));
  TableReader x(**lxc, "lxc.", o);
  WHARF_RETURN_IF_ERROR(x.Read("cache_dir", c.lxc_cache_dir));
  WHARF_RETURN_IF_ERROR(x.Read("allow_special_files", c.lxc_allow_special_files));
  WHARF_RETURN_IF_ERROR(x.Read("require_sha256sums", c.lxc_require_sha256sums));
  TableReader d(**dl, "downloads.", o);
  for (auto [key, field] :
       {std::pair{"max_concurrent", &c.max_concurrent}, std::pair{"failed_ttl_s", &c.failed_ttl_s},
        std::pair{"attempts", &c.attempts}, std::pair{"stall_timeout_s", &c.stall_timeout_s}}) {
    WHARF_RETURN_IF_ERROR(d.Read(key, *field));
    WHARF_RETURN_IF_ERROR(CheckPositive(d, key, *field));
  }
  WHARF_RETURN_IF_ERROR(d.Read("platform", c.platform));
  WHARF_RETURN_IF_ERROR(d.Read("max_unpacked_bytes", c.max_unpacked_bytes));
  WHARF_RETURN_IF_ERROR(CheckPositive(d, "max_unpacked_bytes", c.max_unpacked_bytes));
  WHARF_RETURN_IF_ERROR(d.Read("max_unpack_ratio", c.max_unpack_ratio));
  if (c.max_unpack_ratio < 0) return d.Bad("max_unpack_ratio", "must be 0 (off) or more");
  for (const TableReader* r : {&a, &k, &x, &d}) WHARF_RETURN_IF_ERROR(r->RejectUnknown());
  return {};
}

}  // namespace

Result<Config> ParseConfig(std::string_view toml_text, std::string_view origin) {
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string(origin));
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << origin << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return InvalidArgument(msg.str());
  }
  Config c;
  std::string o(origin);
  TableReader top(root, "", o);
  WHARF_RETURN_IF_ERROR(ParseTop(top, c, o));
  WHARF_RETURN_IF_ERROR(ParseSmallTables(top, c, o));
  WHARF_RETURN_IF_ERROR(ParseHub(top, c, o));
  WHARF_RETURN_IF_ERROR(ParseRegistries(top, c, o));
  WHARF_RETURN_IF_ERROR(ParseEngine(top, c.engine, o));
  WHARF_RETURN_IF_ERROR(ParseServe(top, c.serve, o));
  WHARF_RETURN_IF_ERROR(ParseSecurity(top, c, o));
  WHARF_RETURN_IF_ERROR(ParseImports(top, c.imports, o));
  WHARF_RETURN_IF_ERROR(ParseUpdates(top, c.updates, o));
  WHARF_RETURN_IF_ERROR(top.RejectUnknown());
  return c;
}

namespace {

// Adds the [registries] tables of `file` to `into`; `origin` names where they came from.
Result<void> AddRegistriesFile(const std::filesystem::path& file, const std::string& origin,
                               std::map<std::string, RegistryConfig>& into,
                               std::map<std::string, std::string>& set_in) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    return InvalidArgument(origin + " " + file.string() + ": " + std::strerror(errno));
  }
  if ((st.st_mode & 0044) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return InvalidArgument(origin + " " + file.string() + " is readable by other users (mode " +
                           mode + "); chmod 600 it");
  }
  auto text = ReadFile(file, 1 << 20);
  if (!text) return InvalidArgument("cannot read " + file.string() + ": " + text.error().message);
  toml::table root;
  try {
    root = toml::parse(*text, file.string());
  } catch (const toml::parse_error& e) {
    return InvalidArgument(file.string() + ":" + std::to_string(e.source().begin.line) + ": " +
                           std::string(e.description()));
  }
  Config parsed;
  TableReader top(root, "", file.string());
  WHARF_RETURN_IF_ERROR(ParseRegistries(top, parsed, file.string()));
  WHARF_RETURN_IF_ERROR(top.RejectUnknown());
  for (auto& [host, registry] : parsed.registries) {
    if (auto it = set_in.find(host); it != set_in.end()) {
      return InvalidArgument("registries.\"" + host + "\" is set in both " + it->second + " and " +
                             file.string());
    }
    set_in[host] = file.string();
    into[host] = std::move(registry);
  }
  return {};
}

}  // namespace

Result<Config> WithRegistriesFiles(const Config& config) {
  Config out = config;
  std::map<std::string, std::string> set_in;
  for (const auto& [host, registry] : config.registries) set_in[host] = "the configuration file";
  if (!config.registries_file.empty()) {
    WHARF_RETURN_IF_ERROR(
        AddRegistriesFile(config.registries_file, "registries_file", out.registries, set_in));
  }
  if (const char* dir = std::getenv("CREDENTIALS_DIRECTORY"); dir != nullptr && *dir != '\0') {
    std::filesystem::path file = std::filesystem::path(dir) / "registries";
    if (std::filesystem::exists(file)) {
      WHARF_RETURN_IF_ERROR(
          AddRegistriesFile(file, "the systemd credential", out.registries, set_in));
    }
  }
  return out;
}

bool HoldsCredentials(const Config& config) {
  for (const auto& [host, r] : config.registries) {
    if (!r.password.empty()) return true;
  }
  return false;
}

Result<Config> LoadConfig(const std::filesystem::path& file) {
  auto text = ReadFile(file, 1 << 20);
  if (!text)
    return InvalidArgument("cannot read config " + file.string() + ": " + text.error().message);
  return ParseConfig(*text, file.string());
}

}  // namespace wharf::daemon
