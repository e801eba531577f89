#include "wharf/lazylib/lazy_library.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace wharf::lazylib {

namespace {

[[noreturn]] void Fatal(const char* soname, const char* purpose, const char* symbol) {
  const char* detail = dlerror();
  std::fprintf(stderr, "wharf: cannot %s %s%s, needed for %s: %s\n", symbol ? "find" : "load",
               symbol ? symbol : soname, symbol ? (std::string(" in ") + soname).c_str() : "",
               purpose, detail ? detail : "unknown error");
  std::abort();
}

}  // namespace

void* LazyLibrary::Handle() {
  std::call_once(once_, [&] {
    // RTLD_LOCAL: the library's symbols stay out of the global scope, so they never interpose
    // on wharf's stubs of the same names (or the other way round).
    void* h = dlopen(soname_, RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) Fatal(soname_, purpose_, nullptr);
    handle_.store(h, std::memory_order_release);
  });
  return handle_.load(std::memory_order_acquire);
}

void* LazyLibrary::Symbol(const char* name) {
  void* h = Handle();
  dlerror();
  void* p = dlsym(h, name);
  if (p == nullptr) Fatal(soname_, purpose_, name);
  return p;
}

bool LazyLibrary::loaded() const { return handle_.load(std::memory_order_acquire) != nullptr; }

LazyLibrary& Curl() {
  static LazyLibrary lib("libcurl.so.4", "talking to registries and image servers");
  return lib;
}

LazyLibrary& Archive() {
  static LazyLibrary lib("libarchive.so.13", "LXC images");
  return lib;
}

}  // namespace wharf::lazylib
