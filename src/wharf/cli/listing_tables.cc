#include "wharf/cli/listing_tables.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>

#include "wharf/cli/api_client.h"

namespace wharf::cli {

namespace {

std::string Describe(const nlohmann::json& entry, bool no_trunc) {
  std::string d = StringField(entry, "description");
  return no_trunc ? Truncate(d, d.size()) : Truncate(d, kDescriptionWidth);
}

// A size as the API gives it: a number, or a string of digits (LXC and catalog entries).
std::string SizeCell(const nlohmann::json& size) {
  if (size.is_number_integer()) return HumanSize(size.get<int64_t>());
  if (size.is_string()) {
    const std::string& s = size.get_ref<const std::string&>();
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && ptr == s.data() + s.size()) return HumanSize(n);
  }
  return "-";
}

bool TrueAt(const nlohmann::json& flags, size_t i) {
  return i < flags.size() && flags[i].is_boolean() && flags[i].get<bool>();
}

// "sha256:0123456789abcdef..." → "0123456789ab"; "-" when there is none.
std::string ShortDigest(const std::string& digest) {
  if (digest.empty()) return "-";
  size_t colon = digest.find(':');
  return digest.substr(colon == std::string::npos ? 0 : colon + 1, 12);
}

}  // namespace

std::optional<int64_t> ParseRfc3339(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  std::string_view rest = std::string_view(text).substr(static_cast<size_t>(consumed));
  if (rest.starts_with('.')) {
    size_t digits = rest.find_first_not_of("0123456789", 1);
    rest.remove_prefix(digits == std::string_view::npos ? rest.size() : digits);
  }
  int64_t offset = 0;
  int oh = 0, om = 0;
  if (rest == "Z" || rest == "z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') &&
             std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &oh, &om) == 2) {
    offset = (rest[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) - offset;
}

Table LocalImagesTable(const nlohmann::json& listing, const LocalTableOptions& o) {
  std::vector<std::string> headers = {"NAME",    "TAG",  "IMAGE ID", "TYPE",
                                      "CREATED", "SIZE", "UPDATE",   "DESCRIPTION"};
  if (o.digests) headers.insert(headers.begin() + 2, "DIGEST");
  Table table(headers);
  const size_t created = o.digests ? 5 : 4;
  table.ShrinkFirst({{headers.size() - 1, 0, true}, {0, 12}, {1, 8}, {created, 12}});
  for (const auto& entry : ArrayField(listing, "results")) {
    const auto& tags = ArrayField(entry, "tags");
    const auto& sizes = ArrayField(entry, "size");
    const auto& ids = ArrayField(entry, "ids");
    const auto& created = ArrayField(entry, "created");
    for (size_t i = 0; i < tags.size(); ++i) {
      std::string tag = tags[i].is_string() ? tags[i].get<std::string>() : "";
      const bool by_digest = tag.starts_with("sha256:");
      std::string id = i < ids.size() && ids[i].is_string() ? ids[i].get<std::string>() : "";
      auto when = i < created.size() && created[i].is_string()
                      ? ParseRfc3339(created[i].get<std::string>())
                      : std::nullopt;
      std::vector<std::string> row = {StringField(entry, "name"),
                                      by_digest ? "<none>" : tag,
                                      id.empty() ? "" : ShortDigest(id),
                                      StringField(entry, "type"),
                                      when ? HumanAge(o.now_s - *when) : "",
                                      i < sizes.size() ? SizeCell(sizes[i]) : "-",
                                      TrueAt(ArrayField(entry, "update_available"), i) ? "yes" : "",
                                      Describe(entry, o.no_trunc)};
      if (o.digests) row.insert(row.begin() + 2, by_digest ? tag : "<none>");
      table.AddRow(std::move(row));
    }
  }
  return table;
}

Table SearchTable(const nlohmann::json& listing, bool no_trunc) {
  std::string depot = StringField(listing, "from");
  if (depot.empty()) depot = StringField(listing, "category");
  if (depot == "dockerhub") {
    Table table({"NAME", "DESCRIPTION", "STARS", "OFFICIAL"});
    table.ShrinkFirst({{1, 0, true}, {0, 12}});
    for (const auto& e : ArrayField(listing, "results")) {
      auto stars = e.find("star_count");
      bool official = e.contains("is_official") && e["is_official"].is_boolean() &&
                      e["is_official"].get<bool>();
      table.AddRow({StringField(e, "name"), Describe(e, no_trunc),
                    stars != e.end() && stars->is_number_integer()
                        ? std::to_string(stars->get<int64_t>())
                        : "0",
                    official ? "[OK]" : ""});
    }
    return table;
  }
  Table table({"NAME", "TITLE", "VERSION", "TYPE", "DESCRIPTION"});
  table.ShrinkFirst({{4, 0, true}, {1, 10}, {0, 12}});
  for (const auto& e : ArrayField(listing, "results")) {
    table.AddRow({StringField(e, "name"), StringField(e, "title"), StringField(e, "version"),
                  StringField(e, "type"), Describe(e, no_trunc)});
  }
  return table;
}

Table TagsTable(const nlohmann::json& tags) {
  Table table({"TAG", "INSTALLED"});
  const auto& installed = ArrayField(tags, "installed");
  for (const auto& t : ArrayField(tags, "tags")) {
    if (!t.is_string()) continue;
    bool here = std::find(installed.begin(), installed.end(), t) != installed.end();
    table.AddRow({t.get<std::string>(), here ? "yes" : ""});
  }
  return table;
}

Table DownloadsTable(const nlohmann::json& jobs) {
  Table table({"NAME", "TAG", "TYPE", "STATUS", "PROGRESS", "ERROR"});
  if (!jobs.is_array()) return table;
  for (const auto& j : jobs) {
    std::string progress = "-";
    auto percent = j.find("percent");
    if (percent != j.end() && percent->is_number()) {
      progress = std::to_string(percent->get<int64_t>()) + "%";
      auto done = j.find("bytes_done");
      auto total = j.find("bytes_total");
      if (done != j.end() && done->is_number_integer() && total != j.end() &&
          total->is_number_integer() && total->get<int64_t>() > 0) {
        progress +=
            " (" + HumanSize(done->get<int64_t>()) + "/" + HumanSize(total->get<int64_t>()) + ")";
      }
    }
    table.AddRow({StringField(j, "name"), StringField(j, "tag"), StringField(j, "type"),
                  StringField(j, "status"), progress, Truncate(StringField(j, "error"), 80)});
  }
  return table;
}

Table OutdatedTable(const nlohmann::json& updates, int64_t now_s) {
  Table table({"NAME", "TAG", "CHECKED", "LOCAL", "REMOTE"});
  if (!updates.is_array()) return table;
  for (const auto& u : updates) {
    if (!BoolField(u, "update_available")) continue;
    auto checked = IntField(u, "checked_at");
    std::string age = checked ? HumanAge(now_s - *checked) : "never";
    table.AddRow({StringField(u, "name"), StringField(u, "tag"), age,
                  ShortDigest(StringField(u, "local_digest")),
                  ShortDigest(StringField(u, "remote_digest"))});
  }
  return table;
}

}  // namespace wharf::cli
