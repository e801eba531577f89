#include "wharf/service/updates.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "wharf/lxc/lxc_image.h"
#include "wharf/lxc/remote_image.h"
#include "wharf/service/image_names.h"
#include "wharf/service/updates_webhook.h"

namespace wharf::service {

namespace {

using Key = std::tuple<std::string, std::string, std::string>;

Key KeyOf(const metadata::ImageRecord& image) { return {image.type, image.name, image.tag}; }

bool IsIndex(std::string_view media_type) {
  return media_type == oci::kOciIndex || media_type == oci::kDockerManifestList;
}

std::string LocalIdOf(const metadata::ImageRecord& image);

// The record's flag holds for the image only if it was made for what the image is now.
bool Current(const metadata::UpdateRecord& record, const metadata::ImageRecord& image) {
  return record.local_digest == LocalIdOf(image);
}

}  // namespace

namespace {

// The repo digest a download recorded, or "".
std::string RecordedRepoDigest(const metadata::ImageRecord& image) {
  if (image.extra.empty()) return "";
  auto extra = nlohmann::json::parse(image.extra, nullptr, /*allow_exceptions=*/false);
  if (extra.is_object() && extra.contains("repo_digest") && extra["repo_digest"].is_string()) {
    return extra["repo_digest"].get<std::string>();
  }
  return "";
}

bool HasRepoDigest(const metadata::ImageRecord& image) {
  return !RecordedRepoDigest(image).empty();
}

}  // namespace

namespace {

// What the local image is, as the checks record it: a Docker tag's repo digest, an LXC
// image's build serial.
std::string LocalIdOf(const metadata::ImageRecord& image) {
  if (image.type != "lxc") return RepoDigestOf(image);
  auto info = lxc::LxcImageInfo::FromJson(image.extra);
  return info ? info->serial : "";
}

}  // namespace

std::string RepoDigestOf(const metadata::ImageRecord& image) {
  std::string recorded = RecordedRepoDigest(image);
  return recorded.empty() ? image.manifest_digest : recorded;
}

bool NewerBuild(const std::string& local, const std::string& remote) {
  if (lxc::IsBuildSerial(local) && lxc::IsBuildSerial(remote)) return remote > local;
  return remote != local;
}

// What one run shares between its checks.
struct Updates::Run {
  std::atomic<bool> rate_limited{false};
  std::mutex mu;
  std::vector<UpdateView> fresh;  // the flags it turned on
};

// What a tag names upstream, and whether that is another image than the local one.
struct Updates::Remote {
  std::string digest;  // LXC: the build serial
  bool differs = false;
};

Updates::Updates(UpdatesOptions options, registry::Client& client, LocalImages& local,
                 metadata::UpdateStore& store, pull::EventBus* events, LxcIndex lxc)
    : options_(std::move(options)),
      client_(client),
      local_(local),
      store_(store),
      events_(events),
      lxc_catalog_(std::move(lxc.catalog)) {
  if (lxc.web != nullptr) lxc_resolver_.emplace(lxc.resolver, *lxc.web);
}

bool Updates::Checked(const metadata::ImageRecord& image) const {
  return image.type == "docker" ||
         (image.type == "lxc" && image.tag == "latest" && lxc_resolver_.has_value());
}

Updates::~Updates() { Stop(); }

void Updates::Start() {
  if (options_.check_interval_s <= 0 || loop_.joinable()) return;
  stopping_ = false;
  loop_ = std::thread([this] { Loop(); });
}

void Updates::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (loop_.joinable()) loop_.join();
}

Result<std::vector<UpdateView>> Updates::List() {
  WHARF_ASSIGN_OR_RETURN(auto images, local_.All());
  WHARF_ASSIGN_OR_RETURN(auto records, store_.List());
  std::map<Key, const metadata::UpdateRecord*> by_key;
  for (const auto& r : records) by_key[{r.type, r.name, r.tag}] = &r;
  std::vector<UpdateView> out;
  for (const auto& image : *images) {
    if (!Checked(image)) continue;
    UpdateView view{image.type, image.display_name, image.tag, false, LocalIdOf(image)};
    if (auto it = by_key.find(KeyOf(image)); it != by_key.end()) {
      const auto& r = *it->second;
      view.checked_at = r.checked_at;
      view.error = r.error;
      view.remote_digest = r.remote_digest;
      view.update_available = Current(r, image) && r.update_available;
    }
    out.push_back(std::move(view));
  }
  std::ranges::sort(out, [](const UpdateView& a, const UpdateView& b) {
    return std::tie(a.name, a.tag) < std::tie(b.name, b.tag);
  });
  return out;
}

TagSet Updates::Available() {
  // Both read before the records, so that what is kept is never newer than its key says.
  const uint64_t version = local_.Version();
  const uint64_t generation = generation_.load();
  std::lock_guard lock(cache_mu_);
  if (available_valid_ && available_version_ == version && available_generation_ == generation) {
    return available_;
  }
  TagSet out;
  auto images = local_.All();
  auto records = store_.List();
  if (!images || !records) return out;
  std::map<Key, const metadata::UpdateRecord*> by_key;
  for (const auto& r : *records) by_key[{r.type, r.name, r.tag}] = &r;
  for (const auto& image : **images) {
    auto it = by_key.find(KeyOf(image));
    if (it != by_key.end() && it->second->update_available && Current(*it->second, image)) {
      out.insert(KeyOf(image));
    }
  }
  available_ = out;
  available_version_ = version;
  available_generation_ = generation;
  available_valid_ = true;
  return out;
}

Result<std::vector<metadata::ImageRecord>> Updates::Chosen(const std::string& type,
                                                           const std::string& name,
                                                           const std::string& tag) {
  std::vector<metadata::ImageRecord> chosen;
  const std::string wanted = tag.empty() ? "latest" : tag;
  if (name.empty()) {
    WHARF_ASSIGN_OR_RETURN(auto images, local_.All());
    for (const auto& image : *images) {
      if (Checked(image)) chosen.push_back(image);
    }
  } else if (type.empty() || type == "docker") {
    WHARF_ASSIGN_OR_RETURN(auto found, local_.Find(name, wanted));
    chosen.push_back(*found.image);
  } else if (type != "lxc") {
    return InvalidArgument("image_type must be docker or lxc, not \"" + type + "\"");
  } else if (!lxc_resolver_) {
    return InvalidArgument("update checks of LXC images are off");
  } else if (wanted != "latest") {
    return InvalidArgument("the LXC tag " + wanted +
                           " is one build, which does not change: " + "only latest is checked");
  } else {
    WHARF_ASSIGN_OR_RETURN(auto images, local_.All());
    for (const auto& image : *images) {
      if (image.type == "lxc" && image.name == name && image.tag == wanted) chosen.push_back(image);
    }
    if (chosen.empty()) return NotFound("Image not found: " + name + ":" + wanted);
  }
  return chosen;
}

Result<std::vector<UpdateView>> Updates::Check(const std::string& type, const std::string& name,
                                               const std::string& tag,
                                               const std::function<bool()>& cancelled) {
  WHARF_ASSIGN_OR_RETURN(auto chosen, Chosen(type, name, tag));
  WHARF_ASSIGN_OR_RETURN(bool limited, CheckAll(chosen, cancelled));
  if (limited) spdlog::info("update check stopped early: the registry's rate limit is low");
  return List();
}

Result<bool> Updates::CheckAll(const std::vector<metadata::ImageRecord>& images,
                               const std::function<bool()>& cancelled) {
  std::lock_guard run_lock(run_mu_);
  Run run;
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < images.size(); i = next++) {
      if (run.rate_limited.load() || (cancelled && cancelled())) return;
      metadata::UpdateRecord record = CheckImage(images[i], run, cancelled);
      if (auto put = store_.Put(record); !put) {
        spdlog::warn("cannot record the update check of {}:{}: {}", images[i].display_name,
                     images[i].tag, put.error().message);
      }
      ++generation_;
    }
  };
  std::vector<std::thread> workers;
  const size_t n = std::min<size_t>(std::max(options_.parallel, 1), images.size());
  for (size_t i = 1; i < n; ++i) workers.emplace_back(work);
  work();
  for (auto& t : workers) t.join();
  if (options_.webhook != nullptr && !run.fresh.empty()) {
    std::ranges::sort(run.fresh, [](const UpdateView& a, const UpdateView& b) {
      return std::tie(a.type, a.name, a.tag) < std::tie(b.type, b.name, b.tag);
    });
    options_.webhook->Notify(run.fresh);
  }
  if (cancelled && cancelled()) return Cancelled("update check stopped");
  return run.rate_limited.load();
}

metadata::UpdateRecord Updates::CheckImage(const metadata::ImageRecord& image, Run& run,
                                           const std::function<bool()>& cancelled) {
  auto previous = store_.Get(image.type, image.name, image.tag);
  metadata::UpdateRecord record;
  if (previous && *previous) record = **previous;
  record.type = image.type;
  record.name = image.name;
  record.tag = image.tag;
  record.checked_at = options_.clock->NowSeconds();
  const std::string local = LocalIdOf(image);
  // What the last check found for what the image is now, against that remote digest.
  const metadata::UpdateRecord* judged =
      previous && *previous && Current(**previous, image) ? &**previous : nullptr;
  auto remote =
      image.type == "lxc" ? AskLxcServer(image) : AskRegistry(image, judged, run, cancelled);
  if (!remote) {
    // A failed check keeps what the last one found, for what the image is now; what it found
    // for another image is no answer for this one.
    record.error = remote.error().message;
    if (record.local_digest != local) {
      record.update_available = false;
      record.remote_digest.clear();
    }
    record.local_digest = local;
    return record;
  }
  const bool was = judged != nullptr && judged->update_available;
  record.local_digest = local;
  record.remote_digest = remote->digest;
  record.update_available = remote->differs;
  record.error.clear();
  if (was != record.update_available) Publish(image, record);
  if (!was && record.update_available) {
    std::lock_guard lock(run.mu);
    run.fresh.push_back({image.type, image.display_name, image.tag, true, record.local_digest,
                         record.remote_digest, record.checked_at, ""});
  }
  return record;
}

Result<Updates::Remote> Updates::AskRegistry(const metadata::ImageRecord& image,
                                             const metadata::UpdateRecord* judged, Run& run,
                                             const std::function<bool()>& cancelled) {
  WHARF_ASSIGN_OR_RETURN(auto ref, ParseImage(image.name, image.tag));
  WHARF_ASSIGN_OR_RETURN(auto head, client_.HeadManifest(ref, image.tag, cancelled));
  if (head.ratelimit_remaining && *head.ratelimit_remaining < options_.min_rate_remaining) {
    run.rate_limited = true;
    spdlog::warn("update checks paused: the registry allows {} more pulls",
                 *head.ratelimit_remaining);
  }
  WHARF_ASSIGN_OR_RETURN(bool differs, Differs(image, ref, head, judged, cancelled));
  return Remote{head.digest.str(), differs};
}

// The newest build the image server lists for the image's catalog entry: what a download of
// latest would take.
Result<Updates::Remote> Updates::AskLxcServer(const metadata::ImageRecord& image) {
  auto catalog = lxc_catalog_ ? lxc_catalog_() : nullptr;
  const depot::CatalogEntry* entry = catalog ? catalog->Find("lxc", image.name) : nullptr;
  if (entry == nullptr || !entry->source) {
    return NotFound("Image not found: " + image.name + " (the appcenter catalog does not list it)");
  }
  WHARF_ASSIGN_OR_RETURN(auto newest, lxc_resolver_->Resolve(*entry, "latest"));
  return Remote{newest.serial, NewerBuild(LocalIdOf(image), newest.serial)};
}

// Whether the image at the registry is another than the local one, for this platform. A
// remote digest the last check already judged for this image is not fetched again: each GET
// of an index or manifest counts as a pull at Docker Hub, and a tag that moved only for
// another platform, or an imported image, would cost one at every check.
Result<bool> Updates::Differs(const metadata::ImageRecord& image, const reference::Reference& ref,
                              const registry::ManifestHead& head,
                              const metadata::UpdateRecord* judged,
                              const std::function<bool()>& cancelled) {
  if (head.digest.str() == RepoDigestOf(image)) return false;
  if (judged != nullptr && !judged->remote_digest.empty() &&
      judged->remote_digest == head.digest.str()) {
    return judged->update_available;
  }
  std::string manifest = head.digest.str();
  if (IsIndex(head.media_type)) {
    WHARF_ASSIGN_OR_RETURN(auto body, client_.GetManifest(ref, manifest, cancelled));
    WHARF_ASSIGN_OR_RETURN(auto index, oci::ParseIndex(body.body));
    WHARF_ASSIGN_OR_RETURN(auto entry, oci::ChoosePlatform(index, options_.platform));
    manifest = entry.digest.str();
  }
  if (manifest == image.manifest_digest) return false;
  if (HasRepoDigest(image)) return true;
  // An imported image: its manifest may be one wharf wrote over the same image (a docker
  // archive's), so the config, the image's Id, decides.
  WHARF_ASSIGN_OR_RETURN(auto body, client_.GetManifest(ref, manifest, cancelled));
  WHARF_ASSIGN_OR_RETURN(auto parsed, oci::ParseManifest(body.body));
  return parsed.config.digest.str() != image.config_digest;
}

void Updates::Publish(const metadata::ImageRecord& image, const metadata::UpdateRecord& record) {
  if (events_ == nullptr) return;
  events_->Publish("update", nlohmann::json{{"type", image.type},
                                            {"name", image.display_name},
                                            {"tag", image.tag},
                                            {"update_available", record.update_available},
                                            {"local_digest", record.local_digest},
                                            {"remote_digest", record.remote_digest}}
                                 .dump());
}

int64_t Updates::NextDue() {
  int64_t oldest = options_.clock->NowSeconds();
  auto images = local_.All();
  auto records = store_.List();
  if (!images || !records) return oldest + options_.check_interval_s;
  std::map<Key, int64_t> checked;
  for (const auto& r : *records) checked[{r.type, r.name, r.tag}] = r.checked_at;
  for (const auto& image : **images) {
    if (!Checked(image)) continue;
    auto it = checked.find(KeyOf(image));
    oldest = std::min(oldest, it == checked.end() ? int64_t{0} : it->second);
  }
  return oldest + options_.check_interval_s;
}

void Updates::Loop() {
  auto stopped = [this] {
    std::lock_guard lock(mu_);
    return stopping_;
  };
  bool limited = false;  // the last run stopped for the rate limit: wait a whole interval
  while (!stopped()) {
    const int64_t due =
        limited ? options_.clock->NowSeconds() + options_.check_interval_s : NextDue();
    const int64_t wait_s = std::max<int64_t>(due - options_.clock->NowSeconds(), 1);
    auto deadline = options_.clock->SteadyNow() + std::chrono::seconds(wait_s);
    if (!options_.clock->WaitUntil(deadline, stopped)) return;
    auto images = Chosen("", "", "");
    if (!images) continue;
    auto run = CheckAll(*images, stopped);
    limited = run && *run;
    if (!run && run.error().code != Code::kCancelled) {
      spdlog::warn("update check failed: {}", run.error().message);
    }
  }
}

}  // namespace wharf::service
