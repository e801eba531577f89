// `wharf outdated` and `wharf update`: the local tags whose registry has a newer image, as
// wharfd's update checks found them (GET /api/v1/image/updates; POST
// /api/v1/image/updates/check checks now and answers the same list), and their update,
// which is a pull of the same tag (pull.h: its progress, its Ctrl-C), one tag after another.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/cli/api_client.h"

namespace wharf::cli {

struct OutdatedOptions {
  bool check = false;  // check every local tag first (admin only on the server)
  bool json = false;   // the updates list's entries instead of the table
};

// Prints the local tags with an update available: OutdatedTable, or with `json` the entries
// of the updates list for them. A tag whose last check failed is a warning on stderr (its
// last flag stands); that is not a failure of the command.
Result<void> ShowOutdated(const ApiClient& api, const OutdatedOptions& options);

struct UpdateOptions {
  std::vector<std::string> images;  // NAME (each of its local tags) or NAME:TAG
  bool all = false;                 // every tag with an update; no images then
  bool force = false;               // also download the named tags with no known update
  bool check = false;               // check the named tags (or every tag) first
  bool json = false;                // pull's JSON lines; the notes go to stderr
};

// Downloads each chosen tag that has an update and says of each other one that it is
// skipped, and why, unless `force`. A chosen tag whose last check failed is a warning. Goes on
// after a failure (a name with no local tag, a failed check or download), reports every failure but
// the last on stderr and returns the last. Ctrl-C during a download ends the command: Cancelled
// when the user cancelled it; OK (earlier failures aside) when it was left running in the
// background.
Result<void> UpdateImages(const ApiClient& api, const UpdateOptions& options);

// One entry of the updates list, as the update command reads it.
struct UpdateTarget {
  std::string type;
  std::string name;  // wharfd's display form
  std::string tag;
  bool available = false;
  std::optional<int64_t> checked_at;  // epoch seconds; nullopt: never checked
  std::string error;                  // why the last check failed; empty when it did not
};

struct UpdatePlan {
  std::vector<UpdateTarget> targets;  // in the list's order, each tag once
  std::vector<Status> failures;       // per image argument that names no entry
};

// The entries of `updates` that the arguments name: with `all` those with an update
// available; otherwise, for each NAME every entry of that name, for NAME:TAG that one, NAME
// in any form Docker accepts ("docker.io/library/nginx" is "nginx"). An argument that is no
// image name, or names no entry, is a failure (NotFound "Image not found: ARG").
UpdatePlan PlanUpdates(const nlohmann::json& updates, const std::vector<std::string>& images,
                       bool all);

// Why a target without an update is skipped: "no update available (checked 3 hours ago)",
// or "never checked for an update (--check checks it now)".
std::string SkipReason(const UpdateTarget& target, int64_t now_s);

}  // namespace wharf::cli
