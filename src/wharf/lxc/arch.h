// Architecture names. The catalog, the API and LXC's image servers use Debian's names
// (amd64, arm64, armhf, i386, ppc64el, s390x, riscv64); the kernel (uname -m) uses its own
// (x86_64, aarch64, armv7l...). Everything wharf compares or stores is a Debian name. Pure.
#pragma once

#include <string>
#include <string_view>

namespace wharf::lxc {

// The Debian name of an architecture given by its kernel or Debian name ("x86_64" → "amd64",
// "amd64" → "amd64"). A name neither table knows is returned unchanged.
std::string DebianArch(std::string_view name);

// This host's architecture as a Debian name.
std::string HostArch();

// The architecture a catalog source asks for: "" or "auto" mean this host's.
std::string EffectiveArch(std::string_view catalog_arch);

}  // namespace wharf::lxc
