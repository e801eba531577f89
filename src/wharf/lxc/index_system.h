// The classic index that LXC's "download" template reads, meta/1.0/index-system: one build per
// line, "dist;release;arch;variant;build;path", where path is the build's directory under the
// server root (holding rootfs.tar.xz, meta.tar.xz and SHA256SUMS). Also the SHA256SUMS format
// ("<hex>  <name>" or "<hex> *<name>"). Pure, thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "wharf/base/status.h"
#include "wharf/lxc/remote_image.h"

namespace wharf::lxc {

struct IndexBuild {
  std::string serial;
  std::string dir;  // server-relative, ending in '/'
};

// The build of `query` (dist compared case-insensitively, arch through DebianArch): the newest
// serial in byte-wise order, or the serial asked for. Lines with too few fields, an empty
// build or path, or a build that is not a serial are skipped. NotFound when nothing matches;
// InvalidArgument when the chosen line's path has a ".." component or unsafe characters.
Result<IndexBuild> FindIndexBuild(std::string_view index_text, const ImageQuery& query);

// SHA256SUMS: file name (a leading "./" or "*" dropped) → lowercase hex. Malformed lines are
// skipped.
std::map<std::string, std::string> ParseSha256Sums(std::string_view text);

}  // namespace wharf::lxc
