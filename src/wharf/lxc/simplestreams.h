// The simplestreams protocol of LXD/Incus image servers (images.linuxcontainers.org):
// streams/v1/index.json names the "image-downloads" products files; a products file maps
// product ids to {os, release, arch, variant, versions: {SERIAL: {items: {...}}}}.
//
// A product is matched on its fields (servers spell ids differently); only a product without a
// "variant" field is matched on the variant its id names ("os:release:arch:variant"), and one
// whose id names none matches nothing, never "default". Of the
// matching builds the newest serial is taken (or the one asked for), and of its items the one
// whose ftype is "root.tar.xz": LXC's rootfs. LXC's meta.tar.xz is not an item; it sits in the
// same directory, covered by that directory's SHA256SUMS. Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/lxc/remote_image.h"

namespace wharf::lxc {

// Paths (relative to the server root) of the products files with datatype "image-downloads".
// InvalidArgument for a malformed index or an unsafe path; NotFound when there is none.
Result<std::vector<std::string>> ParseStreamsIndex(std::string_view index_json);

struct SimplestreamsBuild {
  std::string serial;
  RemoteFile rootfs;  // path, sha256 and size from the item
  std::string dir;    // the rootfs's directory, ending in '/': where meta.tar.xz and SHA256SUMS are
};

// The build of `query` in a products file. NotFound when no product matches, or the build
// asked for is absent, or no build has a root.tar.xz item (saying so when the builds hold only
// Incus/LXD images: incus.tar.xz, lxd.tar.xz, squashfs); InvalidArgument for a malformed
// file or an item with a bad path ("..", leading '/'), sha256 or size.
Result<SimplestreamsBuild> FindSimplestreamsBuild(std::string_view products_json,
                                                  const ImageQuery& query);

}  // namespace wharf::lxc
