#include "wharf/cli/registries.h"

#include <cstdio>

#include "wharf/base/file_util.h"
#include "wharf/cli/commands.h"
#include "wharf/cli/passwords.h"
#include "wharf/cli/settings_tables.h"
#include "wharf/cli/terminal.h"

namespace wharf::cli {

namespace {

constexpr size_t kMaxCaFile = 1 << 20;

Result<std::string> RegistryPath(const std::string& host, std::string_view rest = "") {
  if (host.empty()) return InvalidArgument("a registry host is required");
  if (host.find('/') != std::string::npos) {
    return InvalidArgument("give the registry's host[:port], not a URL or image name: " + host);
  }
  return "/api/v1/registries/" + EscapePath(host) + std::string(rest);
}

Result<std::string> ReadCaFile(const std::string& path) {
  auto pem = ReadFile(path, kMaxCaFile);
  if (!pem) return InvalidArgument("--ca-file " + path + ": " + pem.error().message);
  if (pem->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return InvalidArgument("--ca-file " + path + ": not a PEM certificate");
  }
  return *pem;
}

Result<std::string> RegistryPassword(const RegistrySetOptions& o) {
  if (o.password_stdin) return ReadStdinLine("password");
  return AskSecret("Password for " + o.username + "@" + o.host + ": ");
}

}  // namespace

Result<void> ListRegistries(const ApiClient& api, bool json) {
  return ShowAnswer(api, "/api/v1/registries", json, RegistriesTable);
}

Result<void> SetRegistry(const ApiClient& api, const RegistrySetOptions& o) {
  WHARF_ASSIGN_OR_RETURN(auto path, RegistryPath(o.host));
  if (o.password_stdin && o.username.empty()) {
    return InvalidArgument("--password-stdin needs the user name: --username USER");
  }
  nlohmann::json body = {{"insecure", o.insecure}};
  if (!o.ca_file.empty()) {
    WHARF_ASSIGN_OR_RETURN(body["ca_pem"], ReadCaFile(o.ca_file));
  }
  if (!o.username.empty()) {
    InterruptCatcher catcher;  // Ctrl-C at the prompt must not leave the terminal without echo
    WHARF_ASSIGN_OR_RETURN(auto password, RegistryPassword(o));
    if (password.empty()) return InvalidArgument("the password is empty");
    body["username"] = o.username;
    body["password"] = password;
  }
  WHARF_ASSIGN_OR_RETURN(auto answer, api.Call("PUT", path, body));
  PrintDone(answer, o.json, "Registry " + o.host + " set");
  return {};
}

Result<void> RemoveRegistry(const ApiClient& api, const std::string& host, bool json) {
  WHARF_ASSIGN_OR_RETURN(auto path, RegistryPath(host));
  WHARF_ASSIGN_OR_RETURN(auto answer, api.Call("DELETE", path));
  PrintDone(answer, json, "Registry " + host + " removed");
  return {};
}

Result<void> TestRegistry(const ApiClient& api, const std::string& host, bool json) {
  WHARF_ASSIGN_OR_RETURN(auto path, RegistryPath(host, "/test"));
  WHARF_ASSIGN_OR_RETURN(auto result, api.Call("POST", path));
  if (json) {
    PrintJson(result);
  } else {
    std::fputs(RegistryTestTable(result).Render().c_str(), stdout);
  }
  if (BoolField(result, "ok")) return {};
  std::string failed = "a step";
  for (const auto& step : ArrayField(result, "steps")) {
    if (!BoolField(step, "ok")) {
      failed = StringField(step, "step") + ": " + StringField(step, "message");
      break;
    }
  }
  return Unavailable("the test of " + host + " failed at " + failed);
}

}  // namespace wharf::cli
