#include "wharf/service/exports.h"

#include <algorithm>

#include "wharf/reference/reference.h"

namespace wharf::service {

namespace {

// An LXC image of the local store that `text` ("debian-bookworm", "debian-bookworm:TAG")
// names; LXC names hold no ':' and their build serials may ("20240101_05:24").
bool NamesLxcImage(const std::vector<metadata::ImageRecord>& records, std::string_view text) {
  std::string_view name = text.substr(0, text.find(':'));
  return std::ranges::any_of(records,
                             [&](const auto& r) { return r.type == "lxc" && r.name == name; });
}

Status LxcRefused(std::string_view text) {
  return {Code::kInvalidArgument, std::string(text) +
                                      " is an LXC image: only Docker images can be exported "
                                      "as an image archive"};
}

// The local record `text` names, and `ref` its reference.
Result<LocalImages::Found> FindImage(LocalImages& local, const std::string& text,
                                     reference::Reference& ref) {
  Result<LocalImages::Found> found = LocalImages::Found{};
  if (auto parsed = reference::Parse(text)) {
    ref = *parsed;
    found = local.Find(ref.Name(), ref.tag.empty() ? ref.digest : ref.tag);
  } else {
    found = InvalidArgument("image \"" + text + "\": " + parsed.error().message);
  }
  if (!found &&
      (found.error().code == Code::kNotFound || found.error().code == Code::kInvalidArgument)) {
    auto all = local.All();
    if (all && NamesLxcImage(**all, text)) return Error(LxcRefused(text));
  }
  return found;
}

}  // namespace

Result<archive::ArchiveFormat> ParseArchiveFormat(std::string_view text) {
  if (text == "docker") return archive::ArchiveFormat::kDocker;
  if (text == "oci") return archive::ArchiveFormat::kOci;
  return InvalidArgument("format must be docker or oci; got \"" + std::string(text) + "\"");
}

Result<LocalExport> OpenExport(LocalImages& local, const std::vector<std::string>& images,
                               archive::ArchiveFormat format) {
  if (images.empty()) return InvalidArgument("image: name at least one image to export");
  LocalExport out;
  std::vector<archive::ArchiveImage> contents;
  for (const auto& text : images) {
    reference::Reference ref;
    WHARF_ASSIGN_OR_RETURN(auto found, FindImage(local, text, ref));
    const metadata::ImageRecord& record = *found.image;
    const std::string shown = ref.FamiliarString();
    if (std::ranges::find(out.images, shown) != out.images.end()) continue;
    out.images.push_back(shown);
    WHARF_ASSIGN_OR_RETURN(auto manifest, Digest::Parse(record.manifest_digest));
    // A record kept under a digest is exported untagged, as the engine hand-off loads it.
    std::vector<std::string> names;
    if (ref.digest.empty()) names.push_back(record.name + ":" + record.tag);
    auto same = std::ranges::find_if(
        contents, [&](const archive::ArchiveImage& c) { return c.manifest.digest == manifest; });
    if (same != contents.end()) {
      same->repo_tags.insert(same->repo_tags.end(), names.begin(), names.end());
      continue;
    }
    WHARF_ASSIGN_OR_RETURN(auto image,
                           archive::ImageOfManifest(local.store(), manifest, std::move(names)));
    contents.push_back(std::move(image));
  }
  WHARF_ASSIGN_OR_RETURN(auto archive,
                         archive::ImageArchive::Open(local.store(), contents, format));
  out.archive = std::move(archive);
  return out;
}

}  // namespace wharf::service
