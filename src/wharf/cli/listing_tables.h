// The tables the CLI prints for the API's answers, built from the JSON exactly as the API
// documents it (quirks included: a local Docker entry's `size` is an array of integers, an
// LXC entry's an array of strings). Pure, so the shapes are tested without a server.
#pragma once

#include <nlohmann/json.hpp>

#include "wharf/cli/table.h"

namespace wharf::cli {

inline constexpr size_t kDescriptionWidth = 45;  // docker search cuts descriptions alike

// `wharf ls`: NAME, TAG, TYPE, SIZE, UPDATE, DESCRIPTION; one row per tag. UPDATE is "yes"
// where the entry's `update_available` (aligned with `tags`) says so, else empty (LXC
// entries and wharfd versions without update checks have none).
Table LocalImagesTable(const nlohmann::json& listing, bool no_trunc);
// `wharf search`: for dockerhub NAME, DESCRIPTION, STARS, OFFICIAL; for the curated
// catalogs NAME, TITLE, VERSION, TYPE, DESCRIPTION.
Table SearchTable(const nlohmann::json& listing, bool no_trunc);
// `wharf tags`: TAG, INSTALLED.
Table TagsTable(const nlohmann::json& tags);
// `wharf status`: NAME, TAG, TYPE, STATUS, PROGRESS, ERROR.
Table DownloadsTable(const nlohmann::json& jobs);
// `wharf outdated`: NAME, TAG, CHECKED (how long before `now_s`, epoch seconds), LOCAL,
// REMOTE (digests cut as docker cuts image IDs: 12 hex digits); a row per entry of the
// updates list whose `update_available` is true.
Table OutdatedTable(const nlohmann::json& updates, int64_t now_s);

}  // namespace wharf::cli
