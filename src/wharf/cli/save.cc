#include "wharf/cli/save.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include "wharf/cli/output_file.h"
#include "wharf/cli/terminal.h"
#include "wharf/cli/transfer_progress.h"

namespace wharf::cli {

namespace {

constexpr long kIdleTimeoutS = 120;

std::string Label(const std::vector<std::string>& images) {
  std::string label = "Saving " + images.front();
  if (images.size() > 1) label += " and " + std::to_string(images.size() - 1) + " more";
  return label;
}

Result<std::unique_ptr<OutputFile>> OpenOutput(const std::string& output) {
  if (!output.empty()) return OutputFile::Create(output);
  if (IsTerminal(STDOUT_FILENO)) {
    return InvalidArgument(
        "cowardly refusing to write to a terminal; use -o FILE or redirect stdout");
  }
  return OutputFile::Stdout();
}

}  // namespace

std::string ExportPath(const std::vector<std::string>& images, const std::string& format) {
  std::string path = "/api/v1/image/export?format=" + EscapeQuery(format);
  for (const auto& image : images) path += "&image=" + EscapeQuery(image);
  return path;
}

Result<void> Save(const ApiClient& api, const SaveRequest& r) {
  if (r.images.empty()) return InvalidArgument("name at least one image to save");
  WHARF_ASSIGN_OR_RETURN(auto out, OpenOutput(r.output));
  InterruptCatcher catcher;  // Ctrl-C stops the transfer here, and the file is not left
  TransferProgress progress(Label(r.images), IsTerminal(STDERR_FILENO));
  std::optional<Status> failed;
  bool interrupted = false;
  ApiClient::StreamHandlers handlers;
  handlers.on_size = [&](int64_t size) { progress.SetTotal(size); };
  handlers.on_data = [&](std::string_view chunk) {
    if (auto written = out->Write(chunk); !written) {
      failed = written.error();
      return false;
    }
    progress.Add(chunk.size());
    return true;
  };
  handlers.should_stop = [&] { return interrupted = interrupted || InterruptCatcher::Take(); };
  auto got = api.Download(ExportPath(r.images, r.format), handlers, kIdleTimeoutS);
  progress.Finish();
  if (failed) return Error(*failed);
  if (interrupted) return Cancelled("wharf save was interrupted");
  if (!got) return Error(got.error());
  if (progress.total() >= 0 && progress.done() != progress.total()) {
    return Unavailable("the archive ended after " + std::to_string(progress.done()) + " of " +
                       std::to_string(progress.total()) + " bytes");
  }
  return out->Commit();
}

}  // namespace wharf::cli
