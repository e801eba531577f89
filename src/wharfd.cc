// wharfd: the wharf daemon. Parses flags, loads the configuration, runs.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "wharf/daemon/config.h"
#include "wharf/daemon/daemon.h"

int main(int argc, char** argv) {
  CLI::App app{"wharfd - container image service (Container Station image API)"};
  std::string config_file;
  std::string listen;
  std::string data_dir;
  bool version = false;
  app.add_option("--config", config_file, "TOML configuration file (see etc/wharf.toml)");
  app.add_option("--listen", listen, "HOST:PORT to listen on (overrides `listen`)");
  app.add_option("--data", data_dir, "data directory (overrides `data_dir`)");
  app.add_flag("--version", version, "print the version and exit");
  CLI11_PARSE(app, argc, argv);
  if (version) {
    std::printf("wharfd %s\n", WHARF_VERSION);
    return 0;
  }

  auto config = config_file.empty() ? wharf::daemon::ParseConfig("", "defaults")
                                    : wharf::daemon::LoadConfig(config_file);
  if (!config) {
    std::fprintf(stderr, "wharfd: %s\n", config.error().message.c_str());
    return 2;
  }
  if (!listen.empty()) {
    if (auto hp = wharf::daemon::SplitHostPort(listen); !hp) {
      std::fprintf(stderr, "wharfd: --listen: %s\n", hp.error().message.c_str());
      return 2;
    }
    config->listen = listen;
  }
  if (!data_dir.empty()) config->data_dir = data_dir;
  auto ran = wharf::daemon::Run(*config);
  if (!ran) {
    std::fprintf(stderr, "wharfd: %s\n", ran.error().message.c_str());
    return 1;
  }
  return 0;
}
