#include "wharf/service/registries.h"

#include <arpa/inet.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>

#include "wharf/base/digest.h"
#include "wharf/base/file_util.h"
#include "wharf/base/pem.h"
#include "wharf/reference/reference.h"

namespace wharf::service {

namespace {

constexpr size_t kMaxCaBytes = 256 << 10;
constexpr size_t kMaxMirrors = 16;

bool IsDnsName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t start = 0;
  for (;;) {
    size_t dot = name.find('.', start);
    std::string_view label = name.substr(start, dot == name.npos ? name.npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    if (dot == name.npos) return true;
    start = dot + 1;
  }
}

bool IsPort(std::string_view text) {
  int port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  return ec == std::errc() && end == text.data() + text.size() && text.front() != '0' &&
         port >= 1 && port <= 65535;
}

// InvalidArgument "<field>: ..." unless `host` is host[:port].
Result<void> CheckHostField(std::string_view field, std::string_view host) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument(std::string(field) + ": \"" + std::string(host) + "\" " +
                           std::string(why));
  };
  if (host.empty()) return InvalidArgument(std::string(field) + ": must not be empty");
  std::string_view name = host;
  std::string_view port;
  if (host.front() == '[') {
    size_t close = host.find(']');
    if (close == host.npos) return bad("has no ] after its IPv6 address");
    std::string address(host.substr(1, close - 1));
    in6_addr v6{};
    if (inet_pton(AF_INET6, address.c_str(), &v6) != 1) return bad("is not an IPv6 address");
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !IsPort(rest.substr(1)))) {
      return bad("must be [address] or [address]:port with a port of 1 to 65535");
    }
    return {};
  }
  if (size_t colon = host.find(':'); colon != host.npos) {
    name = host.substr(0, colon);
    port = host.substr(colon + 1);
    if (port.empty() || !IsPort(port))
      return bad("must be host or host:port with a port of 1 to 65535");
  }
  if (!IsDnsName(name)) {
    return bad("is not a host name (letters, digits, '-' and '.'; IPv6 in brackets)");
  }
  return {};
}

// InvalidArgument "mirrors[i]: ..." unless `url` is http(s)://host[:port][/path].
Result<void> CheckMirror(size_t i, const std::string& url) {
  const std::string field = "mirrors[" + std::to_string(i) + "]";
  size_t scheme_end = url.starts_with("https://") ? 8 : url.starts_with("http://") ? 7 : 0;
  if (scheme_end == 0) {
    return InvalidArgument(field + ": \"" + url + "\" must be an http:// or https:// URL");
  }
  if (url.find('@') != std::string::npos) {  // not echoed: it may hold a password
    return InvalidArgument(field + ": must not hold credentials; set them with PUT " +
                           "/api/v1/registries/HOST for the mirror's host");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return InvalidArgument(field + ": must not contain spaces or control characters");
    }
  }
  std::string_view rest = std::string_view(url).substr(scheme_end);
  std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  if (rest.find_first_of("?#") != rest.npos) {
    return InvalidArgument(field + ": \"" + url + "\" must not have a query or fragment");
  }
  return CheckHostField(field + " host", host);
}

RegistryView ViewOf(const registry::HostEntry& entry) {
  const registry::HostOptions& o = entry.options;
  return RegistryView{
      entry.host,         o.insecure,
      !o.ca_file.empty(), !o.username.empty(),
      o.username,         entry.source == registry::HostSource::kConfig ? "config" : "api"};
}

Error ConfigEntry(const std::string& host) {
  return Conflict("registry " + host + " is set in the configuration file ([registries.\"" + host +
                  "\"]); change it there");
}

}  // namespace

Result<void> CheckRegistryHost(const std::string& host) { return CheckHostField("host", host); }

Registries::Registries(metadata::RegistryStore& store, registry::HostDirectory& directory,
                       std::filesystem::path ca_dir, registry::Options check_options, Clock& clock)
    : store_(store),
      directory_(directory),
      ca_dir_(std::move(ca_dir)),
      check_options_(std::move(check_options)),
      clock_(clock) {}

// "HOST@" with ':' and brackets as '_': no valid host holds '_' or '@', so the prefixes of two
// hosts never overlap.
std::string CaPrefix(const std::string& host) {
  std::string name = host;
  std::ranges::replace_if(
      name, [](char c) { return c == ':' || c == '[' || c == ']'; }, '_');
  return name + "@";
}

// Each CA has a file named by its host and content, so that a new one is written beside the
// one in use, and the old one removed only once the directory no longer names it.
std::filesystem::path Registries::CaFile(const std::string& host, const std::string& pem) const {
  Sha256 hash;
  hash.Update(pem);
  return ca_dir_ / (CaPrefix(host) + hash.Finish().hex().substr(0, 16) + ".pem");
}

void Registries::ForgetCaFiles(const std::string& host, const std::string& keep) const {
  std::error_code ec;
  const std::string prefix = CaPrefix(host);
  for (const auto& entry : std::filesystem::directory_iterator(ca_dir_, ec)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with(prefix) && entry.path().string() != keep) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

// The directory's settings of a record, its CA file written first.
Result<registry::HostOptions> Registries::Apply(const metadata::RegistryRecord& record) {
  registry::HostOptions options{record.insecure, "", record.username, record.password};
  if (record.ca_pem.empty()) return options;
  const std::filesystem::path file = CaFile(record.host, record.ca_pem);
  WHARF_RETURN_IF_ERROR(MakeDirs(ca_dir_));
  if (::chmod(ca_dir_.c_str(), 0700) != 0) return ErrnoError("chmod " + ca_dir_.string(), errno);
  WHARF_RETURN_IF_ERROR(WriteFileAtomic(file, record.ca_pem, 0600));
  options.ca_file = file.string();
  return options;
}

Result<void> Registries::Load() {
  std::lock_guard lock(mu_);
  WHARF_ASSIGN_OR_RETURN(auto records, store_.List());
  for (const auto& record : records) {
    if (directory_.InConfig(record.host)) {
      spdlog::warn(
          "registry {}: the configuration file's settings are used, not those set "
          "through the API",
          record.host);
    }
    WHARF_ASSIGN_OR_RETURN(auto options, Apply(record));
    ForgetCaFiles(record.host, options.ca_file);
    directory_.SetHost(record.host, std::move(options));
  }
  WHARF_ASSIGN_OR_RETURN(auto mirrors, store_.Mirrors());
  directory_.SetMirrors(std::move(mirrors));
  return {};
}

std::vector<RegistryView> Registries::List() const {
  std::vector<RegistryView> out;
  for (const auto& entry : directory_.List()) out.push_back(ViewOf(entry));
  return out;
}

Result<RegistryView> Registries::Put(const std::string& host, const RegistrySettings& settings) {
  WHARF_RETURN_IF_ERROR(CheckRegistryHost(host));
  if (settings.ca_pem.size() > kMaxCaBytes) {
    return InvalidArgument("ca_pem: over " + std::to_string(kMaxCaBytes >> 10) + " KiB");
  }
  if (!settings.ca_pem.empty()) {
    if (auto parsed = CountPemCertificates(settings.ca_pem); !parsed) {
      return InvalidArgument("ca_pem: " + parsed.error().message);
    }
  }
  if (settings.username.find(':') != std::string::npos) {
    return InvalidArgument("username: must not contain ':' (Basic credentials separate it)");
  }
  std::lock_guard lock(mu_);
  if (directory_.InConfig(host)) return ConfigEntry(host);
  WHARF_ASSIGN_OR_RETURN(auto stored, store_.Get(host));
  std::string password = settings.password.value_or("");
  if (!settings.password && stored && stored->username == settings.username) {
    password = stored->password;
  }
  if (!password.empty() && settings.username.empty()) {
    return InvalidArgument("password: given without a username");
  }
  metadata::RegistryRecord record{host,     settings.insecure,  settings.ca_pem, settings.username,
                                  password, clock_.NowSeconds()};
  WHARF_ASSIGN_OR_RETURN(auto options, Apply(record));
  WHARF_RETURN_IF_ERROR(store_.Put(record));
  directory_.SetHost(host, options);
  ForgetCaFiles(host, options.ca_file);
  spdlog::info("registry {}: settings set (insecure {}, CA {}, user \"{}\")", host,
               settings.insecure, settings.ca_pem.empty() ? "none" : "set", settings.username);
  return ViewOf({host, options, registry::HostSource::kApi});
}

Result<void> Registries::Remove(const std::string& host) {
  WHARF_RETURN_IF_ERROR(CheckRegistryHost(host));
  std::lock_guard lock(mu_);
  if (directory_.InConfig(host)) return ConfigEntry(host);
  WHARF_ASSIGN_OR_RETURN(bool removed, store_.Delete(host));
  if (!directory_.RemoveHost(host) && !removed) {
    return NotFound("registry " + host + " has no settings made through the API");
  }
  ForgetCaFiles(host, "");
  spdlog::info("registry {}: settings removed", host);
  return {};
}

Result<registry::CheckReport> Registries::Test(const std::string& host,
                                               const std::string& repository,
                                               const std::function<bool()>& cancelled) {
  WHARF_RETURN_IF_ERROR(CheckRegistryHost(host));
  // A path as a reference under any registry holds it, with no tag or digest.
  auto parsed = reference::Parse("registry.invalid/" + repository);
  if (!repository.empty() && (!parsed || parsed->path != repository)) {
    return InvalidArgument("repository: \"" + repository +
                           "\" is not a repository path (lower-case components joined by /)");
  }
  return registry::CheckRegistry(check_options_, host, repository, cancelled);
}

std::vector<MirrorView> Registries::Mirrors() const {
  std::vector<MirrorView> out;
  const auto config = directory_.ConfigMirrors();
  for (const auto& url : directory_.Mirrors()) {
    bool from_config = std::ranges::find(config, url) != config.end();
    out.push_back({url, from_config ? "config" : "api"});
  }
  return out;
}

Result<std::vector<MirrorView>> Registries::SetMirrors(const std::vector<std::string>& urls) {
  if (urls.size() > kMaxMirrors) {
    return InvalidArgument("mirrors: at most " + std::to_string(kMaxMirrors));
  }
  const auto config = directory_.ConfigMirrors();
  std::vector<std::string> kept;
  for (size_t i = 0; i < urls.size(); ++i) {
    WHARF_RETURN_IF_ERROR(CheckMirror(i, urls[i]));
    if (std::find(urls.begin(), urls.begin() + static_cast<std::ptrdiff_t>(i), urls[i]) !=
        urls.begin() + static_cast<std::ptrdiff_t>(i)) {
      return InvalidArgument("mirrors[" + std::to_string(i) + "]: \"" + urls[i] +
                             "\" is listed twice");
    }
    if (std::ranges::find(config, urls[i]) == config.end()) kept.push_back(urls[i]);
  }
  {
    std::lock_guard lock(mu_);
    WHARF_RETURN_IF_ERROR(store_.SetMirrors(kept));
    directory_.SetMirrors(kept);
  }
  spdlog::info("Docker Hub mirrors set through the API: {}", kept.size());
  return Mirrors();
}

}  // namespace wharf::service
