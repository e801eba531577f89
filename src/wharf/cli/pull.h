// `wharf pull`: asks wharfd to download an image and follows the job to its end.
//
// Progress comes from the events stream; against a wharfd without one (404) it comes from
// polling downloadstatus instead, and the events path also polls after a few seconds of
// silence, so a missed event can never leave the CLI waiting forever. The stream is opened
// before the download is requested, so no event of the job is missed.
//
// Ctrl-C asks whether to cancel the download (y: DELETE downloadstatus), go back to the
// progress (n, Enter) or leave it running in the background (b); a second Ctrl-C, at the
// prompt (or counted before it: two signals at once may arrive as one), cancels it at once
// (Cancelled, exit 130). Without a terminal to ask
// on, it is left running.
//
// When wharfd stops answering (requests fail or time out, the events stream gives up), the
// view says "reconnecting…" and polls again with a backoff (backoff.h: up to 30 tries or 90
// seconds, then Unavailable), and goes on where it was once wharfd answers: the download
// itself runs in wharfd.
//
// A Docker image installed ends with "Digest: sha256:..." (the manifest digest inspect's
// RepoDigests gives for the name) and "Pulled REF", or "Image is up to date for REF" when
// the local image had that digest before the pull; REF is NAME:TAG or NAME@DIGEST.
#pragma once

#include <string>

#include "wharf/base/status.h"
#include "wharf/cli/api_client.h"

namespace wharf::cli {

struct PullRequest {
  std::string from;  // depot: "dockerhub", "appcenter" or "qnap"
  std::string type;  // "docker" or "lxc"
  std::string name;  // as the user typed it
  std::string tag;
  bool json = false;  // print the job's JSON states, one per line, instead of progress
};

// How a pull that did not fail ended.
enum class PullEnd {
  kInstalled,     // the image is in the local store
  kInBackground,  // Ctrl-C, and the user chose to leave the download running (b)
};

// Cancelled when the user cancelled the download; the job's error (Unavailable) when it
// failed; the server's error when the download could not start.
Result<PullEnd> Pull(const ApiClient& api, const PullRequest& request);

}  // namespace wharf::cli
