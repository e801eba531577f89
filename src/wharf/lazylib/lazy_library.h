// Shared libraries that wharfd loads on first use instead of at start.
//
// libcurl and libarchive bring large dependency trees (GnuTLS, p11-kit, Kerberos, LDAP,
// RTMP, SSH for libcurl; ICU and libxml2 for libarchive) whose constructors and relocations
// cost an idle wharfd about 3.5 and 1.2 MiB of resident memory. wharfd needs libcurl only
// when it talks to a registry or image server and libarchive only for LXC images, so it does
// not link them: curl_stubs.cc and archive_stubs.cc define the C functions wharf calls, and
// each stub resolves its real function in the library, loaded with dlopen on the first call
// of any of them. Calls cost one extra indirect jump.
//
// A library that cannot be loaded, or lacks a symbol, is a broken installation: the process
// prints what is missing and aborts.
#pragma once

#include <atomic>
#include <mutex>

namespace wharf::lazylib {

class LazyLibrary {
 public:
  // `soname` is what dlopen looks for, e.g. "libcurl.so.4"; `purpose` goes into the fatal
  // message ("talking to registries").
  LazyLibrary(const char* soname, const char* purpose) : soname_(soname), purpose_(purpose) {}
  LazyLibrary(const LazyLibrary&) = delete;
  LazyLibrary& operator=(const LazyLibrary&) = delete;

  // The address of `name` in the library, loading it first if needed. Thread-safe.
  void* Symbol(const char* name);
  // Whether the library is loaded (for tests and diagnostics).
  bool loaded() const;

 private:
  void* Handle();

  const char* soname_;
  const char* purpose_;
  std::once_flag once_;
  std::atomic<void*> handle_{nullptr};
};

// The two libraries wharf loads lazily.
LazyLibrary& Curl();
LazyLibrary& Archive();

// The typed address of `name` in `lib`; stubs keep the result in a function-local static.
template <typename Fn>
Fn Resolve(LazyLibrary& lib, const char* name) {
  return reinterpret_cast<Fn>(lib.Symbol(name));
}

}  // namespace wharf::lazylib

// Defines the C function `name` (as its header declares it) to call the real one in `lib`,
// resolved on the first call.
#define WHARF_LAZY_STUB(lib, ret, name, params, args)                                  \
  extern "C" ret name params {                                                         \
    static const auto real = ::wharf::lazylib::Resolve<decltype(&name)>(lib(), #name); \
    return real args;                                                                  \
  }
