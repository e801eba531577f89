#include "wharf/cli/format_template.h"

#include <cctype>

namespace wharf::cli {

namespace {

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// ".A.B" -> {"A", "B"}; "." -> {}. False when it is not a field path.
bool ParsePath(const std::string& text, std::vector<std::string>& path) {
  if (text.empty() || text[0] != '.') return false;
  if (text == ".") return true;
  size_t start = 1;
  for (;;) {
    size_t dot = text.find('.', start);
    std::string field = text.substr(start, dot == std::string::npos ? dot : dot - start);
    if (field.empty()) return false;
    for (char c : field) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    }
    path.push_back(std::move(field));
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

// An action's inside: "PATH", "json PATH" or "PATH | json".
Result<void> ParseAction(const std::string& inside, std::vector<std::string>& path, bool& json) {
  std::string expr = inside;
  if (size_t bar = inside.find('|'); bar != std::string::npos) {
    std::string fn = Trim(std::string_view(inside).substr(bar + 1));
    if (fn != "json") return InvalidArgument("unsupported function \"" + fn + "\"");
    json = true;
    expr = Trim(std::string_view(inside).substr(0, bar));
  } else if (inside.starts_with("json") && inside.size() > 4 &&
             std::isspace(static_cast<unsigned char>(inside[4]))) {
    json = true;
    expr = Trim(std::string_view(inside).substr(4));
  }
  if (ParsePath(expr, path)) return {};
  std::string word = expr.substr(0, expr.find_first_of(" \t"));
  if (!word.empty() && word[0] != '.') {
    return InvalidArgument("unsupported function or action \"" + word + "\"");
  }
  return InvalidArgument("not a field path: \"" + expr + "\"");
}

std::string FormatNumber(const nlohmann::json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  double d = v.get<double>();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}

}  // namespace

std::string GoFormat(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::string:
      return value.get<std::string>();
    case nlohmann::json::value_t::null:
      return "<nil>";
    case nlohmann::json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < value.size(); ++i) out += (i ? " " : "") + GoFormat(value[i]);
      return out + "]";
    }
    case nlohmann::json::value_t::object: {
      std::string out = "map[";
      bool first = true;
      for (const auto& [k, v] : value.items()) {  // nlohmann keeps keys sorted, as Go prints
        out += (first ? "" : " ") + k + ":" + GoFormat(v);
        first = false;
      }
      return out + "]";
    }
    default:
      return value.is_number() ? FormatNumber(value) : value.dump();
  }
}

Result<FormatTemplate> FormatTemplate::Parse(std::string_view text) {
  FormatTemplate t;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      t.pieces_.push_back({std::string(text.substr(pos))});
      break;
    }
    if (open > pos) t.pieces_.push_back({std::string(text.substr(pos, open - pos))});
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return InvalidArgument("format: unclosed action at offset " + std::to_string(open));
    }
    Piece p;
    p.is_action = true;
    p.source = std::string(text.substr(open, close + 2 - open));
    std::string inside = Trim(text.substr(open + 2, close - open - 2));
    if (auto ok = ParseAction(inside, p.path, p.json); !ok) {
      return InvalidArgument("format: " + ok.error().message + " in " + p.source);
    }
    t.pieces_.push_back(std::move(p));
    pos = close + 2;
  }
  return t;
}

Result<std::string> FormatTemplate::Render(const nlohmann::json& value) const {
  std::string out;
  for (const auto& p : pieces_) {
    if (!p.is_action) {
      out += p.literal;
      continue;
    }
    const nlohmann::json* at = &value;
    bool missing = false;
    std::string walked;
    for (const auto& field : p.path) {
      if (missing || !at->is_object()) {
        return InvalidArgument("format: can't evaluate field " + field + " in " +
                               (missing ? "a missing value" : "a " + std::string(at->type_name())) +
                               (walked.empty() ? "" : " (" + walked + ")") + " in " + p.source);
      }
      walked += "." + field;
      auto it = at->find(field);
      if (it == at->end()) {
        missing = true;
      } else {
        at = &*it;
      }
    }
    if (missing) {
      out += p.json ? "null" : "<no value>";
    } else {
      out += p.json ? at->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                    : GoFormat(*at);
    }
  }
  return out;
}

}  // namespace wharf::cli
