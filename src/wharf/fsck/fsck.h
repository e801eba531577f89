// `wharfd fsck`: checks that a data directory (the content store and wharf.db) is whole, and
// with `repair` puts it back in order. What it checks, and the kind each problem is reported as:
//
//   corrupt-blob    a blob under blobs/sha256 whose sha256 is not its name (or is unreadable)
//   stray-file      a file under blobs/sha256 or ingest/ that is neither a blob nor a partial
//   dangling-edge   an image's blob edge naming a blob that is not in the store (or no digest)
//   broken-image    an image whose blobs are there but wrong: a corrupt blob; for Docker images a
//                   manifest or config that does not parse, a manifest that names another config
//                   or other layers than the image's edges, sizes that differ, a config whose
//                   diff_ids do not match the layers in number. (LXC images: only their edges.)
//   orphan-blob     a blob no image references
//   orphan-partial  ingest/<hex>.partial with no unfinished download job, or whose blob is
//                   already complete
//   temp-file       a "*.tmp-*" file left by an interrupted atomic write
//   stale-index     index.json (the OCI layout's) does not list exactly the stored Docker images
//   layout          oci-layout or blobs/sha256 missing
//   database        SQLite's PRAGMA integrity_check fails (never repaired)
//
// While an unfinished download job (waiting or downloading) is recorded, unreferenced blobs and
// partials may be that job's resumable work: they are kept and counted, not reported.
//
// Repair removes orphans, stray, temp and corrupt files; removes every broken image from the
// images table and records a failed job for it (error "fsck: <reason>"), so that it shows up in
// downloadstatus as failed and can be downloaded again; removes the blobs only broken images
// used; and rewrites index.json. It never touches an image that is whole.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "wharf/base/clock.h"
#include "wharf/base/status.h"

namespace wharf::fsck {

struct Options {
  std::filesystem::path data_dir;  // wharfd's data_dir (holds wharf.db); required
  bool repair = false;             // false: only report, change nothing
  // The time stamped on the failed jobs that repair records; tests pass a FakeClock.
  Clock* clock = &Clock::Default();
};

struct Problem {
  std::string kind;    // one of the kinds above
  std::string object;  // "sha256:<hex>", a path relative to the data dir, or an image
                       // "TYPE:NAME:TAG" ("docker:lgsd/diamond:latest")
  std::string detail;
  bool repaired = false;
  std::string action;  // what repair did: "removed", "image removed, download marked failed"...
};

struct Report {
  std::vector<Problem> problems;
  int64_t blobs = 0;            // blobs hashed
  int64_t blob_bytes = 0;       // their bytes
  int64_t images = 0;           // images checked
  int64_t unfinished_jobs = 0;  // waiting or downloading jobs recorded
  int64_t kept_for_jobs = 0;    // unreferenced blobs and partials kept for those jobs

  int64_t Unrepaired() const;
};

// Checks (and with options.repair, repairs) the data directory while holding its lock
// (DataDirLock). Errors: Conflict when a wharfd (or another fsck) holds the lock;
// InvalidArgument when the directory is not a wharf data directory (no wharf.db); Internal on
// an I/O or database failure that stops the check. Problems found are not errors: they are
// in the report.
Result<Report> Run(const Options& options);

// "KIND OBJECT: DETAIL", plus " [repaired: ACTION]" when repaired.
std::string FormatProblem(const Problem& problem);
// One line: what was checked, and how many problems were found and repaired.
std::string FormatSummary(const Report& report);
// The command's exit code: 0 when nothing is left to repair, 1 otherwise.
int ExitCode(const Report& report);

// `wharfd fsck`: Run, then each problem and the summary on `out`, one line each. Returns the
// exit code: ExitCode() of the report; 2 when fsck could not run because of its input (not a
// data directory, or a wharfd holds it), 1 when it failed midway (the error goes to `err`).
int Command(const Options& options, std::FILE* out, std::FILE* err);

}  // namespace wharf::fsck
