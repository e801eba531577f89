#include "wharf/cli/settings_tables.h"

#include <gtest/gtest.h>

namespace wharf::cli {
namespace {

TEST(SettingsTablesTest, UsersMarkTheAdmins) {
  auto users = nlohmann::json::parse(
      R"([{"username": "admin", "admin": true}, {"username": "bob", "admin": false}])");
  EXPECT_EQ(UsersTable(users).Render(),
            "USERNAME   ADMIN\n"
            "admin      yes\n"
            "bob\n");
}

TEST(SettingsTablesTest, DiskUsageRowsAndTotals) {
  auto usage = nlohmann::json::parse(R"({
    "total_bytes": 3500000, "unique_bytes": 2500000, "shared_bytes": 1000000,
    "unreferenced_bytes": 0, "partial_bytes": 1200,
    "images": [
      {"type": "docker", "name": "busybox", "tag": "1.36", "stored_bytes": 2000000,
       "unpacked_bytes": 4400000, "shared_bytes": 1000000, "unique_bytes": 1000000},
      {"type": "docker", "name": "team/app", "tag": "v1", "stored_bytes": 2500000,
       "unpacked_bytes": 5000000, "shared_bytes": 1000000, "unique_bytes": 1500000}]})");
  EXPECT_EQ(DiskUsageImagesTable(usage).Render(),
            "NAME       TAG    TYPE     SIZE    SHARED   UNIQUE   UNPACKED\n"
            "busybox    1.36   docker   2MB     1MB      1MB      4.4MB\n"
            "team/app   v1     docker   2.5MB   1MB      1.5MB    5MB\n");
  EXPECT_EQ(DiskUsageTotalsTable(usage).Render(),
            "TOTAL   UNIQUE   SHARED   UNREFERENCED   PARTIAL\n"
            "3.5MB   2.5MB    1MB      0B             1.2kB\n");
  // A field the server left out is "-", not 0.
  EXPECT_EQ(DiskUsageTotalsTable(nlohmann::json::object()).Render(),
            "TOTAL   UNIQUE   SHARED   UNREFERENCED   PARTIAL\n"
            "-       -        -        -              -\n");
}

TEST(SettingsTablesTest, RegistriesShowWhatIsSetNeverAPassword) {
  auto registries = nlohmann::json::parse(R"([
    {"host": "registry.lan:5000", "insecure": true, "ca": false, "credentials": true,
     "username": "ci", "source": "api"},
    {"host": "ghcr.io", "insecure": false, "ca": true, "credentials": true,
     "source": "config"},
    {"host": "quay.io", "source": "config"}])");
  EXPECT_EQ(RegistriesTable(registries).Render(),
            "HOST                INSECURE   CA    USERNAME   SOURCE\n"
            "registry.lan:5000   yes              ci         api\n"
            "ghcr.io                        yes   yes        config\n"
            "quay.io                                         config\n");
  // Also under a "registries" key.
  EXPECT_EQ(RegistriesTable({{"registries", registries}}).rows(), 3u);
}

TEST(SettingsTablesTest, RegistryTestStepsSayOkOrFailed) {
  auto result = nlohmann::json::parse(R"({"ok": false, "steps": [
    {"step": "ping", "ok": true, "message": "HTTP 401, Bearer challenge"},
    {"step": "login", "ok": false, "message": "401 Unauthorized"}]})");
  EXPECT_EQ(RegistryTestTable(result).Render(),
            "STEP    RESULT   MESSAGE\n"
            "ping    ok       HTTP 401, Bearer challenge\n"
            "login   failed   401 Unauthorized\n");
}

}  // namespace
}  // namespace wharf::cli
