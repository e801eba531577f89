#include "wharf/reference/reference.h"

#include <algorithm>
#include <optional>

#include "wharf/base/digest.h"

namespace wharf::reference {

namespace {

constexpr size_t kMaxPathLength = 255;  // the path's, "library/" included
constexpr size_t kMaxTagLength = 128;
constexpr std::string_view kLegacyDockerHubDomain = "index.docker.io";
constexpr std::string_view kOfficialRepoPrefix = "library/";
constexpr std::string_view kDefaultTag = "latest";
constexpr std::string_view kDigestPrefix = "sha256:";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || IsDigit(c); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || IsUpper(c); }
bool IsWordChar(char c) { return IsAlnum(c) || c == '_'; }
bool IsHexOrColon(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':';
}

// User input quoted for an error message: control and non-ASCII bytes escaped so the message
// stays one printable line, and very long input cut so it cannot flood a log.
std::string Quote(std::string_view text) {
  constexpr size_t kMaxQuoted = 300;
  constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : text.substr(0, kMaxQuoted)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  if (text.size() > kMaxQuoted) out += "...";
  return out;
}

std::string QuoteChar(char c) {
  if (c == ' ') return "space";
  return Quote(std::string_view(&c, 1));
}

Error Invalid(std::string_view input, std::string_view why) {
  return InvalidArgument("invalid reference " + Quote(input) + ": " + std::string(why));
}

// Why `component` does not match [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*, or nullopt if it does.
// Upper case is reported by the caller, which checks the whole path first.
std::optional<std::string> PathComponentProblem(std::string_view component) {
  if (component.empty()) {
    return "repository name has an empty path component (\"//\" or a leading or trailing '/')";
  }
  for (char c : component) {
    if (!IsLowerAlnum(c) && c != '.' && c != '_' && c != '-') {
      return "repository name has invalid character " + QuoteChar(c) + " in " + Quote(component);
    }
  }
  if (!IsLowerAlnum(component.front()) || !IsLowerAlnum(component.back())) {
    return "path component " + Quote(component) +
           " must start and end with a lowercase letter or digit";
  }
  for (size_t i = 0; i < component.size();) {
    if (IsLowerAlnum(component[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < component.size() && !IsLowerAlnum(component[end])) ++end;
    std::string_view separator = component.substr(i, end - i);
    bool all_dashes = std::ranges::all_of(separator, [](char c) { return c == '-'; });
    if (separator != "." && separator != "_" && separator != "__" && !all_dashes) {
      return "path component " + Quote(component) + " has invalid separator " + Quote(separator) +
             " (allowed: '.', '_', '__' or dashes)";
    }
    i = end;
  }
  return std::nullopt;
}

// Why `labels` is not DNS-ish labels [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])? joined by '.'.
std::optional<std::string> HostNameProblem(std::string_view labels) {
  size_t start = 0;
  while (true) {
    size_t dot = labels.find('.', start);
    std::string_view label =
        labels.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty()) return "has an empty host name label";
    if (!IsAlnum(label.front()) || !IsAlnum(label.back())) {
      return "has host name label " + Quote(label) +
             " not starting and ending with a letter or digit";
    }
    for (char c : label) {
      if (!IsAlnum(c) && c != '-') return "has invalid character " + QuoteChar(c) + " in host name";
    }
    if (dot == std::string_view::npos) return std::nullopt;
    start = dot + 1;
  }
}

// Why `domain` is not host[:port] where host is a host name or a bracketed IPv6 address.
std::optional<std::string> DomainProblem(std::string_view domain) {
  std::string_view after_host;
  if (domain.starts_with('[')) {
    size_t close = domain.find(']');
    if (close == std::string_view::npos) return "domain " + Quote(domain) + " lacks ']'";
    std::string_view address = domain.substr(1, close - 1);
    if (address.empty() || !std::ranges::all_of(address, IsHexOrColon)) {
      return "domain " + Quote(domain) + " has an invalid IPv6 address";
    }
    after_host = domain.substr(close + 1);
  } else {
    size_t colon = domain.find(':');
    std::string_view host = domain.substr(0, colon);
    if (auto why = HostNameProblem(host)) return "domain " + Quote(domain) + " " + *why;
    if (colon != std::string_view::npos) after_host = domain.substr(colon);
  }
  if (after_host.empty()) return std::nullopt;
  std::string_view port = after_host.substr(1);
  if (after_host.front() != ':' || port.empty() || !std::ranges::all_of(port, IsDigit)) {
    return "domain " + Quote(domain) + " has an invalid port " + Quote(after_host);
  }
  return std::nullopt;
}

std::optional<std::string> TagProblem(std::string_view tag) {
  if (tag.empty()) return "tag is empty";
  if (tag.size() > kMaxTagLength) {
    return "tag is " + std::to_string(tag.size()) + " characters long; the limit is " +
           std::to_string(kMaxTagLength);
  }
  if (!IsWordChar(tag.front())) {
    return "tag " + Quote(tag) + " must start with a letter, digit or '_'";
  }
  for (char c : tag) {
    if (!IsWordChar(c) && c != '.' && c != '-') {
      return "tag " + Quote(tag) + " has invalid character " + QuoteChar(c) +
             " (allowed: letters, digits, '_', '.', '-')";
    }
  }
  return std::nullopt;
}

// Docker refuses a bare 64-hex reference: it is almost surely an image ID typed where a name
// belongs.
Result<void> RefuseImageId(std::string_view input, std::string_view name) {
  if (name.size() == 64 &&
      std::ranges::all_of(name, [](char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); })) {
    return Invalid(input, "a 64-character hex string is an image ID, not a repository name");
  }
  return {};
}

// Docker's rule for the first of several components: a domain if it is "localhost", holds a
// '.' or a ':', or holds an upper-case letter (which a path component may not).
bool IsDomainComponent(std::string_view first) {
  return first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
         std::ranges::any_of(first, IsUpper);
}

// Parses and normalises a name (no tag, no digest) into ref.domain and ref.path. `input` is the
// text the caller was given, quoted in errors.
Result<Reference> ParseName(std::string_view input, std::string_view name) {
  if (name.empty()) return Invalid(input, "repository name is empty");
  Reference ref;
  std::string_view path = name;
  size_t slash = name.find('/');
  if (slash != std::string_view::npos) {
    std::string_view first = name.substr(0, slash);
    if (IsDomainComponent(first)) {
      if (auto why = DomainProblem(first)) return Invalid(input, *why);
      ref.domain = first == kLegacyDockerHubDomain ? kDockerHubDomain : first;
      path = name.substr(slash + 1);
    }
  }
  if (ref.domain.empty()) ref.domain = kDockerHubDomain;

  if (std::ranges::any_of(path, IsUpper)) {
    return Invalid(input, "repository name must be lowercase");
  }
  for (size_t start = 0;;) {
    size_t end = path.find('/', start);
    std::string_view component =
        path.substr(start, end == std::string_view::npos ? end : end - start);
    if (auto why = PathComponentProblem(component)) return Invalid(input, *why);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  ref.path = path;
  if (ref.domain == kDockerHubDomain && path.find('/') == std::string_view::npos) {
    ref.path.insert(0, kOfficialRepoPrefix);
  }
  if (size_t length = ref.path.size(); length > kMaxPathLength) {
    return Invalid(input, "repository path " + Quote(ref.path) + " is " + std::to_string(length) +
                              " characters long; the limit is " + std::to_string(kMaxPathLength));
  }
  return ref;
}

Result<std::string> ParseDigest(std::string_view input, std::string_view digest) {
  auto parsed = Digest::Parse(digest);
  if (!parsed) {
    return Invalid(input, "invalid digest " + Quote(digest) +
                              " (want \"sha256:\" and 64 lowercase hex digits)");
  }
  return parsed->str();
}

std::string Suffix(const Reference& ref) {
  std::string out;
  if (!ref.tag.empty()) out += ":" + ref.tag;
  if (!ref.digest.empty()) out += "@" + ref.digest;
  return out;
}

}  // namespace

std::string Reference::Name() const { return domain + "/" + path; }

std::string Reference::Familiar() const {
  if (domain != kDockerHubDomain) return Name();
  std::string_view familiar = path;
  if (familiar.starts_with(kOfficialRepoPrefix) &&
      familiar.find('/', kOfficialRepoPrefix.size()) == std::string_view::npos) {
    familiar.remove_prefix(kOfficialRepoPrefix.size());
  }
  return std::string(familiar);
}

std::string Reference::String() const { return Name() + Suffix(*this); }

std::string Reference::FamiliarString() const { return Familiar() + Suffix(*this); }

bool IsValidTag(std::string_view tag) { return !TagProblem(tag).has_value(); }

Result<Reference> Parse(std::string_view text) {
  if (text.empty()) return Invalid(text, "reference is empty");
  // Neither name nor tag may contain '@', and the tag is what follows the first ':' after the
  // last '/': any earlier ':' belongs to the domain's port.
  std::string_view name = text;
  std::optional<std::string_view> digest;
  if (size_t at = name.find('@'); at != std::string_view::npos) {
    digest = name.substr(at + 1);
    name = name.substr(0, at);
  }
  std::optional<std::string_view> tag;
  size_t last_slash = name.rfind('/');
  size_t tag_colon = name.find(':', last_slash == std::string_view::npos ? 0 : last_slash + 1);
  if (tag_colon != std::string_view::npos) {
    tag = name.substr(tag_colon + 1);
    name = name.substr(0, tag_colon);
  }

  // As Docker, a 64-hex reference is refused only when it is all there is: with a tag, a
  // digest or a domain it is a name like any other.
  if (!tag && !digest) WHARF_RETURN_IF_ERROR(RefuseImageId(text, name));
  auto ref = ParseName(text, name);
  if (!ref) return ref;
  if (tag) {
    if (auto why = TagProblem(*tag)) return Invalid(text, *why);
    ref->tag = *tag;
  }
  if (digest) {
    WHARF_ASSIGN_OR_RETURN(auto parsed, ParseDigest(text, *digest));
    ref->digest = std::move(parsed);
  }
  if (!tag && !digest) ref->tag = kDefaultTag;
  return ref;
}

Result<Reference> ParseNameAndTag(std::string_view name, std::string_view tag) {
  const bool tag_is_digest = tag.starts_with(kDigestPrefix);
  const std::string input = std::string(name) +
                            (tag.empty()     ? ""
                             : tag_is_digest ? "@"
                                             : ":") +
                            std::string(tag);
  if (name.find('@') != std::string_view::npos) {
    return Invalid(
        input, "repository name " + Quote(name) + " must not carry a digest; pass it as the tag");
  }
  size_t last_slash = name.rfind('/');
  if (name.find(':', last_slash == std::string_view::npos ? 0 : last_slash + 1) !=
      std::string_view::npos) {
    return Invalid(
        input, "repository name " + Quote(name) + " must not carry a tag; pass the tag separately");
  }
  if (tag.empty()) WHARF_RETURN_IF_ERROR(RefuseImageId(input, name));
  auto ref = ParseName(input, name);
  if (!ref) return ref;
  if (tag.empty()) {
    ref->tag = kDefaultTag;
  } else if (tag_is_digest) {
    WHARF_ASSIGN_OR_RETURN(auto parsed, ParseDigest(input, tag));
    ref->digest = std::move(parsed);
  } else if (auto why = TagProblem(tag)) {
    return Invalid(input, *why);
  } else {
    ref->tag = tag;
  }
  return ref;
}

}  // namespace wharf::reference
