#include "wharf/fsck/fsck.h"

#include <algorithm>
#include <cstdio>

#include "wharf/fsck/check.h"
#include "wharf/fsck/data_dir_lock.h"
#include "wharf/metadata/database.h"
#include "wharf/metadata/image_store.h"
#include "wharf/metadata/job_store.h"

namespace wharf::fsck {

namespace fs = std::filesystem;

int64_t Report::Unrepaired() const {
  return std::count_if(problems.begin(), problems.end(),
                       [](const Problem& p) { return !p.repaired; });
}

Result<Report> Run(const Options& options) {
  const fs::path& data = options.data_dir;
  std::error_code ec;
  if (data.empty()) return InvalidArgument("no data directory given");
  if (!fs::is_directory(data, ec)) {
    return InvalidArgument("data directory " + data.string() + " does not exist");
  }
  if (!fs::is_regular_file(data / "wharf.db", ec)) {
    return InvalidArgument(data.string() + " is not a wharf data directory (no wharf.db)");
  }
  auto lock = DataDirLock::Acquire(data);
  if (!lock) return Error(lock.error());
  auto db = metadata::Database::Open(data / "wharf.db");
  if (!db) return Error(db.error());
  metadata::ImageStore images(**db);
  metadata::JobStore jobs(**db);
  WHARF_ASSIGN_OR_RETURN(auto findings, Check(data, **db, images, jobs));
  if (options.repair) WHARF_RETURN_IF_ERROR(Repair(data, images, findings, *options.clock));
  return std::move(findings.report);
}

std::string FormatProblem(const Problem& p) {
  std::string line = p.kind + " " + p.object + ": " + p.detail;
  if (p.repaired) {
    line += " [repaired: " + p.action + "]";
  } else if (!p.action.empty()) {
    line += " [not repaired: " + p.action + "]";
  }
  return line;
}

std::string FormatSummary(const Report& r) {
  char bytes[32];
  std::snprintf(bytes, sizeof(bytes), "%.1f MiB", static_cast<double>(r.blob_bytes) / (1 << 20));
  std::string line = "fsck: checked " + std::to_string(r.blobs) + " blobs (" + bytes + "), " +
                     std::to_string(r.images) + " images";
  if (r.unfinished_jobs > 0) {
    line += "; " + std::to_string(r.kept_for_jobs) + " unreferenced blobs and partials kept for " +
            std::to_string(r.unfinished_jobs) + " unfinished downloads";
  }
  const size_t found = r.problems.size();
  const int64_t left = r.Unrepaired();
  if (found == 0) return line + "; no problems";
  line += "; " + std::to_string(found) + (found == 1 ? " problem" : " problems");
  if (left == static_cast<int64_t>(found)) return line + ", none repaired";
  return line + ", " + std::to_string(static_cast<int64_t>(found) - left) + " repaired";
}

int ExitCode(const Report& report) { return report.Unrepaired() == 0 ? 0 : 1; }

int Command(const Options& options, std::FILE* out, std::FILE* err) {
  auto report = Run(options);
  if (!report) {
    std::fprintf(err, "wharfd fsck: %s\n", report.error().message.c_str());
    Code code = report.error().code;
    return code == Code::kInvalidArgument || code == Code::kConflict ? 2 : 1;
  }
  for (const Problem& p : report->problems) std::fprintf(out, "%s\n", FormatProblem(p).c_str());
  std::fprintf(out, "%s\n", FormatSummary(*report).c_str());
  std::fflush(out);
  return ExitCode(*report);
}

}  // namespace wharf::fsck
