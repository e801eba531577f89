#include "wharf/api/archives.h"

#include "wharf/service/exports.h"

namespace wharf::api {

namespace {

constexpr size_t kMaxFileStem = 120;

std::string Sanitized(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, kMaxFileStem)) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-';
    out += keep ? c : '_';
  }
  return out;
}

// The images a route names, as OpenExport reads them.
Result<std::vector<std::string>> ImagesOf(const Route& route, const HttpRequest& req) {
  if (route.id == RouteId::kExport) {
    if (route.type == "lxc") {
      return InvalidArgument("image_type lxc: only Docker images can be exported");
    }
    if (route.type != "docker") {
      return InvalidArgument("image_type must be docker; got \"" + route.type + "\"");
    }
    bool digest = route.tag.starts_with("sha256:");
    return std::vector<std::string>{route.name + (digest ? "@" : ":") + route.tag};
  }
  std::vector<std::string> images;
  for (const auto& [key, value] : req.params) {
    if (key == "image") images.push_back(value);
  }
  if (images.empty()) {
    return InvalidArgument("image: name at least one image to export (image=NAME:TAG)");
  }
  return images;
}

// The archive's runs as the server sends them; `owner` keeps its files open meanwhile.
std::shared_ptr<PartsBody> BodyOf(std::shared_ptr<archive::ImageArchive> archive) {
  auto body = std::make_shared<PartsBody>();
  for (const auto& part : archive->Parts()) {
    body->parts.push_back({std::string(part.bytes), part.fd, static_cast<uint64_t>(part.offset),
                           static_cast<uint64_t>(part.length)});
  }
  body->owner = std::move(archive);
  return body;
}

}  // namespace

std::string ExportFileName(const std::vector<std::string>& images) {
  if (images.empty()) return "images.tar";
  std::string stem = Sanitized(images.front());
  if (images.size() > 1) stem += "-and-" + std::to_string(images.size() - 1) + "-more";
  return stem + ".tar";
}

Result<Exported> ExportImages(service::LocalImages& local, const Route& route,
                              const HttpRequest& req) {
  auto format = archive::ArchiveFormat::kDocker;
  if (req.HasParam("format")) {
    WHARF_ASSIGN_OR_RETURN(format, service::ParseArchiveFormat(req.Param("format")));
  }
  WHARF_ASSIGN_OR_RETURN(auto images, ImagesOf(route, req));
  WHARF_ASSIGN_OR_RETURN(auto exported, service::OpenExport(local, images, format));
  Exported out;
  out.answer.content_type = "application/x-tar";
  out.answer.AddHeader("Content-Disposition",
                       "attachment; filename=\"" + ExportFileName(exported.images) + "\"");
  out.answer.parts = BodyOf(std::move(exported.archive));
  out.images = std::move(exported.images);
  return out;
}

}  // namespace wharf::api
