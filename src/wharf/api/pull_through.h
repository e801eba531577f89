// [serve] pull_through: a manifest request for a tag wharf does not hold starts the normal
// wharf download of it (or joins the one running, from any wharf user, as a registry mirror
// is used) and is answered once the download has committed, that is once every blob is
// verified and stored: an engine never gets a byte that was not checked. The request waits
// without holding a thread (http_message.h, HttpDeferred), at most `wait_s`; a download that
// fails answers 404 MANIFEST_UNKNOWN with the job's error. Blobs are then served as any
// stored blob. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "wharf/api/http_message.h"
#include "wharf/serve/served_images.h"
#include "wharf/service/downloads.h"
#include "wharf/service/events.h"

namespace wharf::api {

class PullThrough {
 public:
  // Every part must outlive this and the answers it returns.
  PullThrough(serve::ServedImages& served, service::Downloads& downloads, service::EventBus& events,
              std::chrono::seconds wait);

  using Answer = std::function<HttpResponse(serve::ServedManifest)>;
  // Starts or joins the download of canonical `repository`:`tag` and returns the answer to
  // come, made by `answer` from the stored manifest; or an error answer at once when the name
  // cannot be downloaded (the download's own 4xx). `who` is for the audit line.
  HttpResponse Start(const std::string& repository, const std::string& tag, const std::string& who,
                     const std::string& from, Answer answer);

 private:
  serve::ServedImages& served_;
  service::Downloads& downloads_;
  service::EventBus& events_;
  std::chrono::seconds wait_;
};

}  // namespace wharf::api
