#include "wharf/lxc/arch.h"

#include <sys/utsname.h>

#include <array>
#include <utility>

namespace wharf::lxc {

std::string DebianArch(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kKernel = {{
      {"x86_64", "amd64"},
      {"aarch64", "arm64"},
      {"armv7l", "armhf"},
      {"armv8l", "armhf"},
      {"i686", "i386"},
      {"i586", "i386"},
      {"ppc64le", "ppc64el"},
      {"s390x", "s390x"},
      {"riscv64", "riscv64"},
      {"armv6l", "armel"},
  }};
  for (const auto& [kernel, debian] : kKernel) {
    if (name == kernel) return std::string(debian);
  }
  return std::string(name);
}

std::string HostArch() {
  struct utsname u {};
  if (uname(&u) != 0) return "amd64";
  return DebianArch(u.machine);
}

std::string EffectiveArch(std::string_view catalog_arch) {
  if (catalog_arch.empty() || catalog_arch == "auto") return HostArch();
  return DebianArch(catalog_arch);
}

}  // namespace wharf::lxc
