// What the LXC image-server parsers share: the query a catalog entry makes, the files of one
// build, and the rules for build serials and server-relative paths. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/base/status.h"

namespace wharf::lxc {

// One image of a server: os (compared case-insensitively), release, arch (Debian or kernel
// name), variant. `serial` empty = the newest build, else exactly that build.
struct ImageQuery {
  std::string os, release, arch, variant;
  std::string serial;

  // "debian/bookworm/amd64/default", for messages.
  std::string Describe() const;
};

// A file of a build, as the server's index names it.
struct RemoteFile {
  std::string path;    // relative to the server root (or a full URL for "url" sources)
  std::string sha256;  // 64 lowercase hex digits
  int64_t size = -1;   // bytes, -1 when the index does not say
};

// A build serial is what LXC's servers name builds with: it starts with a date, YYYYMMDD
// ("20240101_05:24"). Keys that do not are not builds (simplestreams may hold others).
bool IsBuildSerial(std::string_view key);

// Picks the build `wanted` (exact) or, when it is empty, the newest: the greatest serial in
// byte-wise order. Keys that are not build serials are skipped. nullopt when none fits.
std::optional<std::string> PickSerial(const std::vector<std::string>& keys,
                                      std::string_view wanted);

// Whether a '/'-separated path has a ".." component.
bool HasDotDotSegment(std::string_view path);

// A path the server gave may be used in a URL under its root: not empty, no ".." component,
// no backslash, control character, space, '?' or '#', and no leading '/' unless
// `allow_leading_slash` (lxc-download's index writes "/images/...").
bool IsSafeServerPath(std::string_view path, bool allow_leading_slash);

// server + "/" + path, without doubled or missing slashes.
std::string JoinUrl(std::string_view server, std::string_view path);

// 64 hex digits (either case) → lowercase; nullopt otherwise.
std::optional<std::string> NormalizeSha256(std::string_view hex);

}  // namespace wharf::lxc
