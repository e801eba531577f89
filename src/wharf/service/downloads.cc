#include "wharf/service/downloads.h"

#include <spdlog/spdlog.h>

#include <set>

#include "wharf/base/log_text.h"
#include "wharf/service/image_names.h"

namespace wharf::service {

namespace {

Result<void> CheckType(const std::string& type) {
  if (type == "docker" || type == "lxc") return {};
  return InvalidArgument("image_type must be docker or lxc, not \"" + type + "\"");
}

}  // namespace

Downloads::Downloads(pull::PullQueue& queue, depot::Depots* depots, Collector& collector,
                     engine::Engine* engine)
    : queue_(queue), depots_(depots), collector_(collector), engine_(engine) {}

Result<void> Downloads::Start(const DownloadRequest& request) {
  static const std::set<std::string> kSources = {"dockerhub", "appcenter", "qnap"};
  if (!kSources.contains(request.source)) {
    return InvalidArgument("repository must be dockerhub, appcenter or qnap, not \"" +
                           request.source + "\"");
  }
  WHARF_RETURN_IF_ERROR(CheckType(request.type));
  if (request.type == "lxc") return StartLxc(request);
  WHARF_ASSIGN_OR_RETURN(auto ref, ParseImage(request.name, request.tag));
  metadata::JobRecord job;
  job.type = "docker";
  job.name = ref.Name();
  job.tag = ref.tag.empty() ? ref.digest : ref.tag;
  job.display_name = ref.Familiar();
  job.source = request.source;
  job.description = request.description;
  job.location = request.location;
  job.icon = request.icon;
  return queue_.Submit(std::move(job));
}

// LXC images come only from the appcenter catalog: a name it lacks is NotFound at once. The
// tag is "latest" (the newest build) or a build serial ("20240101_05:24").
Result<void> Downloads::StartLxc(const DownloadRequest& request) {
  if (request.source == "dockerhub") {
    return InvalidArgument("repository must be appcenter or qnap for lxc images");
  }
  const std::string& tag = request.tag;
  if (tag.empty() || tag.size() > 64 || tag.front() == '.' || tag.front() == '-' ||
      tag.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") !=
          std::string::npos) {
    return InvalidArgument("image_tag: \"" + tag + "\" is neither latest nor a build serial");
  }
  auto catalog = depots_ != nullptr ? depots_->Appcenter() : nullptr;
  const depot::CatalogEntry* entry = catalog ? catalog->Find("lxc", request.name) : nullptr;
  if (entry == nullptr) return NotFound("Image not found: " + request.name);
  metadata::JobRecord job;
  job.type = "lxc";
  job.name = entry->name;
  job.tag = tag;
  job.display_name = entry->name;
  job.source = request.source;
  job.description = request.description.empty() ? entry->description : request.description;
  job.location = request.location;
  job.icon = !request.icon.empty()        ? request.icon
             : !entry->icon.empty()       ? entry->icon
             : !entry->icon_local.empty() ? "/icons/" + entry->icon_local
                                          : "";
  return queue_.Submit(std::move(job));
}

Result<void> Downloads::Cancel(const std::string& type, const std::string& name,
                               const std::string& tag) {
  WHARF_RETURN_IF_ERROR(CheckType(type));
  if (type == "lxc") return queue_.Cancel(type, name, tag.empty() ? "latest" : tag);
  if (tag.starts_with("import-")) {  // an import, listed under its archive's file name
    auto cancelled = queue_.Cancel(type, name, tag);
    if (cancelled || cancelled.error().code != Code::kNotFound) return cancelled;
  }
  WHARF_ASSIGN_OR_RETURN(auto ref, ParseImage(name, tag));
  return queue_.Cancel(type, ref.Name(), ref.tag.empty() ? ref.digest : ref.tag);
}

Result<void> Downloads::Delete(const std::string& type, const std::string& name,
                               const std::string& tag) {
  WHARF_RETURN_IF_ERROR(CheckType(type));
  std::string canonical = name;
  std::string shown = tag.empty() ? name : name + ":" + tag;
  std::string key_tag = tag;
  if (type == "lxc") {
    // LXC names have no ':' but build serials do ("20240101_05:24"), and the route splits
    // NAME:TAG at the last ':', so split again at the first.
    size_t colon = shown.find(':');
    canonical = shown.substr(0, colon);
    key_tag = colon == std::string::npos ? "" : shown.substr(colon + 1);
  } else {
    WHARF_ASSIGN_OR_RETURN(auto ref, ParseImage(name, tag.empty() ? "latest" : tag));
    canonical = ref.Name();
    shown = tag.empty() ? ref.Familiar() : ref.FamiliarString();
    if (!tag.empty()) key_tag = ref.tag.empty() ? ref.digest : ref.tag;
  }
  if (queue_.Busy(type, canonical, key_tag)) return Conflict("Image is downloading: " + shown);
  WHARF_ASSIGN_OR_RETURN(auto removed, collector_.Remove(type, canonical, key_tag, shown));
  if (type != "docker" || engine_ == nullptr || !engine_->remove_on_delete()) return {};
  for (const auto& image : removed) {
    if (auto s = engine_->Remove(image); !s) {
      spdlog::warn("the engine kept {}:{} (deleted from wharf): {}", LogSafe(image.display_name),
                   LogSafe(image.tag), s.error().message);
    } else {
      spdlog::info("removed {}:{} from the engine", LogSafe(image.display_name),
                   LogSafe(image.tag));
    }
  }
  return {};
}

Result<std::optional<bool>> Downloads::InEngine(const metadata::ImageRecord& image) {
  if (engine_ == nullptr || !engine_->enabled()) return std::optional<bool>();
  WHARF_ASSIGN_OR_RETURN(bool held, engine_->Holds(image));
  return std::optional<bool>(held);
}

}  // namespace wharf::service
