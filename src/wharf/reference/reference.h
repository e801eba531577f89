// Docker image references, exactly as Docker's reference grammar (distribution/reference
// v0.6, ParseNormalizedNamed) defines them: [domain/]path[:tag][@digest].
//
//   domain    host[:port], host a name of [a-zA-Z0-9-] labels joined by '.' or a bracketed
//             IPv6 address of hex digits and ':'. The first of several '/'-separated
//             components is a domain only if it is "localhost", contains '.' or ':', or
//             contains an upper-case letter ("Docker/docker", "LOCALDOMAIN/debian"); case is
//             kept as written.
//   path      components of [a-z0-9]+ joined by separators '.', '_', '__' or '-'+, joined by
//             '/'; no empty components; at most 255 characters after normalisation
//             ("library/" included); the domain does not count
//   tag       [\w][\w.-]{0,127}
//   digest    sha256:<64 lowercase hex> (Docker also takes sha384 and sha512; wharf stores
//             sha256 only, so other algorithms are refused, naming the digest)
//   a bare 64-hex reference (no domain, tag or digest) is refused as an image ID
//
// One deliberate difference: a first component that must be a domain but is not a valid one
// ("foo_bar.com/x", which Docker parses as a path without a domain) is refused, naming the
// domain's problem: wharf always knows which registry a name lives on.
//
// Normalisation follows Docker: no domain → "docker.io"; docker.io with a one-component path
// → "library/" prefix; no tag and no digest → tag "latest". "index.docker.io" is docker.io.
// Pure functions, no I/O, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "wharf/base/status.h"

namespace wharf::reference {

inline constexpr std::string_view kDockerHubDomain = "docker.io";

struct Reference {
  std::string domain;  // "docker.io", "qnap.dorowu.com", "127.0.0.1:5000"
  std::string path;    // "library/ubuntu", "lgsd/diamond"
  std::string tag;     // "latest" when neither tag nor digest was given; may be empty with digest
  std::string digest;  // "sha256:..." or empty

  // "docker.io/library/ubuntu"
  std::string Name() const;
  // Docker's short display form of the name: "ubuntu", "lgsd/diamond",
  // "qnap.dorowu.com/qnap/builder", "localhost:5000/foo".
  std::string Familiar() const;
  // "docker.io/library/ubuntu:latest" or "...@sha256:..." (tag and digest both when both set).
  std::string String() const;
  // Familiar() plus ":tag" or "@digest": "ubuntu:latest".
  std::string FamiliarString() const;

  friend bool operator==(const Reference&, const Reference&) = default;
};

// Parses and normalises a full reference ("ubuntu", "lgsd/diamond:1.0", "host:5000/a/b@sha256:…").
// Errors are InvalidArgument with a message naming what is wrong.
Result<Reference> Parse(std::string_view text);

// Parses a name without tag or digest ("ubuntu", "docker.io/library/ubuntu") and a separate tag
// or digest, as the API's URL paths carry them. An empty tag means "latest". A tag that starts
// with "sha256:" is taken as a digest.
Result<Reference> ParseNameAndTag(std::string_view name, std::string_view tag);

// True if `tag` matches [\w][\w.-]{0,127}.
bool IsValidTag(std::string_view tag);

}  // namespace wharf::reference
