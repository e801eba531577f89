#include "wharf/cli/inspect.h"

#include <cstdio>
#include <optional>

#include "wharf/cli/commands.h"
#include "wharf/cli/format_template.h"
#include "wharf/cli/image_arg.h"

namespace wharf::cli {

namespace {

Result<nlohmann::json> InspectOne(const ApiClient& api, const std::string& image, bool remote) {
  WHARF_ASSIGN_OR_RETURN(auto arg, ParseImageArg(image));
  std::string tag = arg.tag.empty() ? "latest" : arg.tag;
  std::string path = "/api/v1/image/docker/" + EscapePath(arg.name) + "/" + EscapePath(tag) +
                     (remote ? "/remote_inspect" : "/inspect");
  return api.Get(path);
}

}  // namespace

Result<void> InspectImages(const ApiClient& api, const InspectOptions& o) {
  std::optional<FormatTemplate> format;
  if (!o.format.empty()) {
    WHARF_ASSIGN_OR_RETURN(auto parsed, FormatTemplate::Parse(o.format));
    format = std::move(parsed);
  }
  std::vector<Status> failures;
  nlohmann::json found = nlohmann::json::array();
  std::string lines;
  for (const auto& image : o.images) {
    auto view = InspectOne(api, image, o.remote);
    if (!view) {
      failures.push_back(view.error());
      continue;
    }
    if (format) {
      WHARF_ASSIGN_OR_RETURN(auto line, format->Render(*view));
      lines += line + "\n";
    } else {
      found.push_back(std::move(*view));
    }
  }
  if (format) {
    std::fputs(lines.c_str(), stdout);
  } else {
    PrintJson(found, 4);
  }
  return ReportFailures(failures);
}

}  // namespace wharf::cli
