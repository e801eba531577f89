#include "wharf/api/pull_through.h"

#include <spdlog/spdlog.h>

#include "wharf/api/distribution.h"
#include "wharf/base/log_text.h"
#include "wharf/serve/repository_name.h"

namespace wharf::api {

namespace {

// Waits for one image: woken by every job and image event, it looks at the store and the
// download list again.
class WaitForImage final : public HttpDeferred {
 public:
  WaitForImage(serve::ServedImages& served, service::Downloads& downloads,
               service::EventBus& events, std::string repository, std::string display,
               std::string tag, std::chrono::seconds wait, PullThrough::Answer answer)
      : served_(served),
        downloads_(downloads),
        events_(events),
        subscription_(events.Subscribe(-1)),
        repository_(std::move(repository)),
        display_(std::move(display)),
        tag_(std::move(tag)),
        wait_(wait),
        answer_(std::move(answer)) {}

  void Subscribe(std::function<void()> wake) override {
    wake_ = std::move(wake);
    subscription_->SetWaker(wake_);
  }

  // Every final answer is a Distribution API answer, as the ones given at once are.
  std::optional<HttpResponse> Poll(bool last) override {
    std::optional<HttpResponse> res = Decide(last);
    if (res) res->AddHeader("Docker-Distribution-API-Version", "registry/2.0");
    return res;
  }

  std::chrono::seconds Wait() const override { return wait_; }

 private:
  std::optional<HttpResponse> Decide(bool last) {
    while (subscription_->Next(0)) {
    }
    if (subscription_->dropped()) {  // fell behind the bus: a new subscription, no events lost
      subscription_ = events_.Subscribe(-1);
      subscription_->SetWaker(wake_);
    }
    auto manifest = served_.Manifest(repository_, tag_);
    if (manifest) return answer_(std::move(*manifest));
    bool running = false;
    for (const auto& job : downloads_.List()) {
      if (job.type != "docker" || job.name != display_ || job.tag != tag_) continue;
      if (job.status == "failed") {
        return DistErrorAnswer(
            {404, "MANIFEST_UNKNOWN",
             "the pull-through download of " + display_ + ":" + tag_ + " failed: " + job.error});
      }
      running = true;
    }
    if (!running) {  // committed between the two looks?
      if (auto now = served_.Manifest(repository_, tag_)) return answer_(std::move(*now));
    }
    if (!running || last) {
      return DistErrorAnswer({404, "MANIFEST_UNKNOWN",
                              running ? display_ + ":" + tag_ + " is still downloading; try again"
                                      : "the pull-through download of " + display_ + ":" + tag_ +
                                            " ended without it"});
    }
    return std::nullopt;
  }

  serve::ServedImages& served_;
  service::Downloads& downloads_;
  service::EventBus& events_;
  std::shared_ptr<service::EventBus::Subscription> subscription_;
  std::function<void()> wake_;
  std::string repository_, display_, tag_;
  std::chrono::seconds wait_;
  PullThrough::Answer answer_;
};

}  // namespace

PullThrough::PullThrough(serve::ServedImages& served, service::Downloads& downloads,
                         service::EventBus& events, std::chrono::seconds wait)
    : served_(served), downloads_(downloads), events_(events), wait_(wait) {}

HttpResponse PullThrough::Start(const std::string& repository, const std::string& tag,
                                const std::string& who, const std::string& from, Answer answer) {
  const std::string display = serve::FamiliarName(repository);
  // Subscribed before the download starts, so that its end cannot be missed.
  auto waiting = std::make_shared<WaitForImage>(served_, downloads_, events_, repository, display,
                                                tag, wait_, std::move(answer));
  service::DownloadRequest request{"dockerhub", "docker", serve::ServedName(repository), tag};
  if (auto started = downloads_.Start(request); !started) {
    const bool bad = started.error().code == Code::kInvalidArgument;
    return DistErrorAnswer(
        {bad ? 400 : 404, bad ? "NAME_INVALID" : "MANIFEST_UNKNOWN", started.error().message});
  }
  spdlog::info("audit: pull-through download user=\"{}\" from={} {}:{}", LogSafe(who), from,
               LogSafe(display), LogSafe(tag));
  HttpResponse res;
  res.deferred = std::move(waiting);
  return res;
}

}  // namespace wharf::api
