// The tables of the settings commands (`wharf user ls`, `wharf df`, `wharf registry ls`,
// `wharf registry test`), built from the API's JSON as README's API reference documents it.
// Pure, tolerant of a missing field (an empty cell, or "-" for a size).
#pragma once

#include <nlohmann/json.hpp>

#include "wharf/cli/table.h"

namespace wharf::cli {

// GET /api/v1/users: USERNAME, ADMIN ("yes" or "").
Table UsersTable(const nlohmann::json& users);

// GET /api/v1/system/df, as `docker system df -v` shows images: NAME, TAG, TYPE, SIZE (as
// stored), SHARED (of SIZE, what other images need too), UNIQUE (what deleting it frees),
// UNPACKED (the layers uncompressed); one row per entry of `images`.
Table DiskUsageImagesTable(const nlohmann::json& usage);
// The store's totals: TOTAL, UNIQUE, SHARED, UNREFERENCED, PARTIAL (downloads in progress).
Table DiskUsageTotalsTable(const nlohmann::json& usage);

// GET /api/v1/registries: HOST, INSECURE, CA, USERNAME (the one stored, "yes" when only
// the fact is known), SOURCE (config or api).
Table RegistriesTable(const nlohmann::json& registries);
// POST /api/v1/registries/HOST/test: STEP, RESULT ("ok" or "failed"), MESSAGE.
Table RegistryTestTable(const nlohmann::json& result);

}  // namespace wharf::cli
