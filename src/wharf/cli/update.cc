#include "wharf/cli/update.h"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <set>
#include <tuple>

#include "wharf/cli/commands.h"
#include "wharf/cli/image_arg.h"
#include "wharf/cli/listing_tables.h"
#include "wharf/cli/pull.h"
#include "wharf/cli/table.h"

namespace wharf::cli {

namespace {

constexpr const char* kUpdatesPath = "/api/v1/image/updates";
constexpr const char* kCheckPath = "/api/v1/image/updates/check";
// A check asks the registry about every tag it covers before it answers.
constexpr long kCheckTimeoutS = 600;

// POST updates/check, with `body` ({"name", "tag"} of one image) or for every tag.
Result<nlohmann::json> Check(const ApiClient& api, const std::optional<nlohmann::json>& body) {
  ApiOptions options = api.options();
  options.timeout_s = kCheckTimeoutS;
  return ApiClient(std::move(options)).Call("POST", kCheckPath, body);
}

// The entries of the updates list; none when the answer is not a list.
const nlohmann::json& Entries(const nlohmann::json& updates) {
  static const nlohmann::json kNone = nlohmann::json::array();
  return updates.is_array() ? updates : kNone;
}

// A tag whose flag is as old as its last check that worked.
void WarnFailedCheck(const std::string& name, const std::string& tag, const std::string& error) {
  if (error.empty()) return;
  std::fprintf(stderr, "wharf: warning: the last check of %s:%s failed: %s\n", name.c_str(),
               tag.c_str(), error.c_str());
}

// The updates list, after a check of each of `images` (or of every tag, with none) when
// `check`. An image whose check fails is a failure and leaves `images`.
Result<nlohmann::json> FetchUpdates(const ApiClient& api, bool check,
                                    std::vector<std::string>& images,
                                    std::vector<Status>& failures) {
  if (!check) return api.Get(kUpdatesPath);
  if (images.empty()) return Check(api, std::nullopt);
  std::optional<nlohmann::json> list;  // every check answers the whole list: keep the last
  std::vector<std::string> checked;
  for (const auto& image : images) {
    auto arg = ParseImageArg(image);
    if (!arg) {
      failures.push_back(arg.error());
      continue;
    }
    nlohmann::json body = {{"name", arg->name}};
    if (!arg->tag.empty()) body["tag"] = arg->tag;
    auto answer = Check(api, body);
    if (!answer) {
      failures.push_back(answer.error());
      continue;
    }
    list = std::move(*answer);
    checked.push_back(image);
  }
  images = std::move(checked);
  return list ? std::move(*list) : nlohmann::json::array();
}

// Says why `t` is not downloaded: on stdout, or on stderr beside JSON output.
void NoteSkipped(const UpdateTarget& t, int64_t now_s, bool json) {
  std::fprintf(json ? stderr : stdout, "%s:%s: %s, skipped\n", t.name.c_str(), t.tag.c_str(),
               SkipReason(t, now_s).c_str());
}

}  // namespace

Result<void> ShowOutdated(const ApiClient& api, const OutdatedOptions& o) {
  WHARF_ASSIGN_OR_RETURN(auto updates, o.check ? Check(api, std::nullopt) : api.Get(kUpdatesPath));
  for (const auto& u : Entries(updates)) {
    WarnFailedCheck(StringField(u, "name"), StringField(u, "tag"), StringField(u, "error"));
  }
  if (o.json) {
    nlohmann::json outdated = nlohmann::json::array();
    for (const auto& u : Entries(updates)) {
      if (BoolField(u, "update_available")) outdated.push_back(u);
    }
    PrintJson(outdated);
  } else {
    std::fputs(OutdatedTable(updates, std::time(nullptr)).Render().c_str(), stdout);
  }
  return {};
}

UpdatePlan PlanUpdates(const nlohmann::json& updates, const std::vector<std::string>& images,
                       bool all) {
  UpdatePlan plan;
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  auto add = [&](const nlohmann::json& u) {
    UpdateTarget t{StringField(u, "type"),    StringField(u, "name"),
                   StringField(u, "tag"),     BoolField(u, "update_available"),
                   IntField(u, "checked_at"), StringField(u, "error")};
    if (t.type.empty()) t.type = "docker";
    if (seen.insert({t.type, t.name, t.tag}).second) plan.targets.push_back(std::move(t));
  };
  const nlohmann::json& entries = Entries(updates);
  if (all) {
    for (const auto& u : entries) {
      if (BoolField(u, "update_available")) add(u);
    }
    return plan;
  }
  for (const auto& image : images) {
    auto arg = ParseImageArg(image);
    if (!arg) {
      plan.failures.push_back(arg.error());
      continue;
    }
    const std::string name = DisplayName(arg->name);
    bool named = false;
    for (const auto& u : entries) {
      if (StringField(u, "name") != name) continue;
      if (!arg->tag.empty() && StringField(u, "tag") != arg->tag) continue;
      add(u);
      named = true;
    }
    if (!named) plan.failures.push_back(NotFound("Image not found: " + image).error());
  }
  return plan;
}

std::string SkipReason(const UpdateTarget& t, int64_t now_s) {
  if (!t.checked_at) return "never checked for an update (--check checks it now)";
  std::string age = HumanAge(now_s - *t.checked_at);
  age[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(age[0])));
  return "no update available (checked " + age + ")";
}

Result<void> UpdateImages(const ApiClient& api, const UpdateOptions& o) {
  if (o.all && !o.images.empty()) return InvalidArgument("--all takes no image names");
  if (!o.all && o.images.empty()) return InvalidArgument("name the images to update, or --all");
  std::vector<Status> failures;
  std::vector<std::string> images = o.images;
  WHARF_ASSIGN_OR_RETURN(auto updates, FetchUpdates(api, o.check, images, failures));
  UpdatePlan plan = PlanUpdates(updates, images, o.all);
  failures.insert(failures.end(), plan.failures.begin(), plan.failures.end());
  if (o.all && plan.targets.empty() && !o.json) std::printf("No updates available\n");

  const int64_t now_s = std::time(nullptr);
  for (const auto& t : plan.targets) {
    WarnFailedCheck(t.name, t.tag, t.error);
    if (!t.available && !o.force) {
      NoteSkipped(t, now_s, o.json);
      continue;
    }
    PullRequest r{t.type == "lxc" ? "appcenter" : "dockerhub", t.type, t.name, t.tag, o.json};
    auto pulled = Pull(api, r);
    if (!pulled) failures.push_back(pulled.error());
    if (!pulled && pulled.error().code == Code::kCancelled) break;
    if (pulled && *pulled == PullEnd::kInBackground) break;
  }
  return ReportFailures(failures);
}

}  // namespace wharf::cli
