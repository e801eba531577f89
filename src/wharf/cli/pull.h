// `wharf pull`: asks wharfd to download an image and follows the job to its end.
//
// Progress comes from the events stream; against a wharfd without one (404) it comes from
// polling downloadstatus instead, and the events path also polls after a few seconds of
// silence, so a missed event can never leave the CLI waiting forever. The stream is opened
// before the download is requested, so no event of the job is missed.
//
// Ctrl-C asks whether to cancel the download (DELETE downloadstatus) or leave it running in
// the background; without a terminal to ask on, it is left running.
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
  kInBackground,  // Ctrl-C, and the user chose to leave the download running
};

// Cancelled when the user cancelled the download; the job's error (Unavailable) when it
// failed; the server's error when the download could not start.
Result<PullEnd> Pull(const ApiClient& api, const PullRequest& request);

}  // namespace wharf::cli
