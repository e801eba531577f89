// The tables the CLI prints for the API's answers, built from the JSON exactly as the API
// documents it (quirks included: a local Docker entry's `size` is an array of integers, an
// LXC entry's an array of strings). Pure, so the shapes are tested without a server.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "wharf/cli/table.h"

namespace wharf::cli {

inline constexpr size_t kDescriptionWidth = 45;  // docker search cuts descriptions alike

struct LocalTableOptions {
  bool no_trunc = false;  // keep descriptions whole
  bool digests = false;   // a DIGEST column, as `docker images --digests`
  int64_t now_s = 0;      // epoch seconds the CREATED ages count from
};

// `wharf ls`: NAME, TAG, [DIGEST], IMAGE ID, TYPE, CREATED, SIZE, UPDATE, DESCRIPTION; one
// row per tag. A tag that is a digest (an image pulled by digest) shows as TAG `<none>` and
// is the DIGEST; DIGEST is `<none>` for other tags. IMAGE ID is the first 12 hex digits of
// the entry's `ids` and CREATED the age of its `created` (RFC 3339) in docker's words, both
// aligned with `tags` (LXC entries and older wharfd versions have none: empty cells).
// UPDATE is "yes" where `update_available` says so, else empty. When rendered to a width,
// DESCRIPTION gives way first (left out when even its header does not fit), then NAME
// (down to 12 characters), TAG (8) and CREATED (12).
Table LocalImagesTable(const nlohmann::json& listing, const LocalTableOptions& options);
// Epoch seconds of an RFC 3339 time ("2024-01-02T03:04:05.123Z", "...+01:00"), or nullopt.
std::optional<int64_t> ParseRfc3339(const std::string& text);
// `wharf search`: for dockerhub NAME, DESCRIPTION, STARS, OFFICIAL; for the curated
// catalogs NAME, TITLE, VERSION, TYPE, DESCRIPTION. DESCRIPTION gives way first to a
// width (left out when even its header does not fit), then TITLE (to 10), then NAME (to 12).
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
