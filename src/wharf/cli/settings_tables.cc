#include "wharf/cli/settings_tables.h"

#include "wharf/cli/api_client.h"

namespace wharf::cli {

namespace {

std::string Yes(bool b) { return b ? "yes" : ""; }

std::string Bytes(const nlohmann::json& j, std::string_view key) {
  auto n = IntField(j, key);
  return n ? HumanSize(*n) : "-";
}

// The answer's array itself, or the array under `key` of an object answer.
const nlohmann::json& Entries(const nlohmann::json& answer, std::string_view key) {
  return answer.is_array() ? answer : ArrayField(answer, key);
}

}  // namespace

Table UsersTable(const nlohmann::json& users) {
  Table table({"USERNAME", "ADMIN"});
  for (const auto& u : Entries(users, "users")) {
    table.AddRow({StringField(u, "username"), Yes(BoolField(u, "admin"))});
  }
  return table;
}

Table DiskUsageImagesTable(const nlohmann::json& usage) {
  Table table({"NAME", "TAG", "TYPE", "SIZE", "SHARED", "UNIQUE", "UNPACKED"});
  for (const auto& image : ArrayField(usage, "images")) {
    table.AddRow({StringField(image, "name"), StringField(image, "tag"), StringField(image, "type"),
                  Bytes(image, "stored_bytes"), Bytes(image, "shared_bytes"),
                  Bytes(image, "unique_bytes"), Bytes(image, "unpacked_bytes")});
  }
  return table;
}

Table DiskUsageTotalsTable(const nlohmann::json& usage) {
  Table table({"TOTAL", "UNIQUE", "SHARED", "UNREFERENCED", "PARTIAL"});
  table.AddRow({Bytes(usage, "total_bytes"), Bytes(usage, "unique_bytes"),
                Bytes(usage, "shared_bytes"), Bytes(usage, "unreferenced_bytes"),
                Bytes(usage, "partial_bytes")});
  return table;
}

Table RegistriesTable(const nlohmann::json& registries) {
  Table table({"HOST", "INSECURE", "CA", "USERNAME", "SOURCE"});
  for (const auto& r : Entries(registries, "registries")) {
    std::string user = StringField(r, "username");
    if (user.empty()) user = Yes(BoolField(r, "credentials"));
    table.AddRow({StringField(r, "host"), Yes(BoolField(r, "insecure")), Yes(BoolField(r, "ca")),
                  user, StringField(r, "source")});
  }
  return table;
}

Table RegistryTestTable(const nlohmann::json& result) {
  Table table({"STEP", "RESULT", "MESSAGE"});
  for (const auto& s : ArrayField(result, "steps")) {
    table.AddRow({StringField(s, "step"), BoolField(s, "ok") ? "ok" : "failed",
                  Truncate(StringField(s, "message"), 200)});
  }
  return table;
}

}  // namespace wharf::cli
