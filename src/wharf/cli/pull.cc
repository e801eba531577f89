#include "wharf/cli/pull.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "wharf/base/strings.h"
#include "wharf/cli/backoff.h"
#include "wharf/cli/event_feed.h"
#include "wharf/cli/image_arg.h"
#include "wharf/cli/progress.h"
#include "wharf/cli/terminal.h"

namespace wharf::cli {

namespace {

constexpr int kOpenTimeoutMs = 10000;
constexpr double kSilenceCheckS = 5.0;  // with the stream, poll after this long without news
constexpr double kPollIntervalS = 0.5;  // without the stream
constexpr double kFrameIntervalS = 0.1;
constexpr long kPollTimeoutS = 10;  // a wharfd that stopped answering is noticed within this

ApiOptions PollOptions(ApiOptions o) {
  o.timeout_s = kPollTimeoutS;
  o.connect_timeout_s = std::min(o.connect_timeout_s, kPollTimeoutS);
  return o;
}

double Now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Sleeps, but returns early on Ctrl-C (nanosleep fails with EINTR).
void Nap(double seconds) {
  timespec ts{
      static_cast<time_t>(seconds),
      static_cast<long>((seconds - static_cast<double>(static_cast<time_t>(seconds))) * 1e9)};
  ::nanosleep(&ts, nullptr);
}

class PullSession {
 public:
  PullSession(const ApiClient& api, const PullRequest& r)
      : api_(api),
        poll_api_(PollOptions(api.options())),
        r_(r),
        display_(r.type == "docker" ? DisplayName(r.name) : r.name) {
    state_.type = r.type;
    state_.name = display_;
    state_.tag = r.tag;
    state_.status = "waiting";
    terminal_ = !r.json && IsTerminal(STDOUT_FILENO);
  }

  Result<PullEnd> Run();

 private:
  std::string Ref() const { return JoinRef(display_, r_.tag); }
  bool Ours(const nlohmann::json& j) const {
    return StringField(j, "type") == r_.type && StringField(j, "tag") == r_.tag &&
           StringField(j, "name") == display_;
  }
  Result<void> StartDownload();
  void Update(const nlohmann::json& j, bool has_layers);
  Result<void> PollOnce();
  // PollOnce; when wharfd does not answer, says "reconnecting…" and waits as backoff_ says
  // before the next try (OK), until it gives up (Unavailable). Once wharfd answers again the
  // notice goes and a feed that gave up meanwhile starts again.
  Result<void> PollOrWait(EventFeed& feed, bool& streaming);
  Result<bool> Installed();
  std::string LocalDigest() const;
  void PrintEnding(const std::string& digest_before) const;
  void Show(bool force);
  void SetNotice(std::string notice);
  // Ctrl-C (`presses` of them): true to keep following, false to stop (the answer is in the
  // return of Run).
  Result<bool> OnInterrupt(int presses);

  const ApiClient& api_;
  const ApiClient poll_api_;  // api_ with a short timeout: a stopped wharfd must not freeze us
  const PullRequest& r_;
  const std::string display_;
  JobState state_;
  bool terminal_;
  SpeedMeter speed_;
  TerminalView view_;
  PlainProgress plain_;
  double last_frame_s_ = -1;
  std::string last_status_shown_;
  std::string last_json_;
  Backoff backoff_;
  std::string notice_;
  bool stream_wanted_ = false;  // the events stream opened at the start
};

Result<void> PullSession::StartDownload() {
  std::string path = "/api/v1/image/" + r_.from + "/" + r_.type + "/" + EscapePath(r_.name) + "/" +
                     EscapePath(r_.tag) + "/download";
  WHARF_RETURN_IF_ERROR(api_.Call("POST", path, nlohmann::json::object()));
  return {};
}

void PullSession::Update(const nlohmann::json& j, bool has_layers) {
  JobState next = ParseJobState(j);
  if (!has_layers) next.layers = std::move(state_.layers);  // downloadstatus has none
  state_ = std::move(next);
  speed_.Add(Now(), state_.bytes_done);
  if (r_.json) {
    std::string line = j.dump();
    if (line != last_json_) std::printf("%s\n", line.c_str());
    last_json_ = std::move(line);
    std::fflush(stdout);
  }
}

// Reads the job from downloadstatus; once it has left the list, decides how it ended.
Result<void> PullSession::PollOnce() {
  auto jobs = poll_api_.Get("/api/v1/image/downloadstatus");
  if (!jobs) return Error(jobs.error());
  if (jobs->is_array()) {
    for (const auto& j : *jobs) {
      if (Ours(j)) {
        Update(j, false);
        return {};
      }
    }
  }
  WHARF_ASSIGN_OR_RETURN(auto installed, Installed());
  nlohmann::json end = {{"type", r_.type}, {"name", display_}, {"tag", r_.tag}};
  if (installed) {
    end["status"] = "done";
    end["percent"] = 100;
    end["bytes_done"] = state_.bytes_total > 0 ? state_.bytes_total : state_.bytes_done;
    end["bytes_total"] = state_.bytes_total;
  } else {
    end["status"] = "cancelled";
    end["error"] = "the download ended without an image (cancelled elsewhere?)";
  }
  Update(end, false);
  return {};
}

Result<bool> PullSession::Installed() {
  auto listing = poll_api_.Get("/api/v1/image/?from=local&type=" + r_.type +
                               "&filter_text=" + EscapeQuery(display_));
  if (!listing) return Error(listing.error());
  for (const auto& entry : ArrayField(*listing, "results")) {
    if (StringField(entry, "name") != display_) continue;
    const auto& tags = ArrayField(entry, "tags");
    if (std::find(tags.begin(), tags.end(), r_.tag) != tags.end()) return true;
  }
  return false;
}

// The manifest digest the local image of name and tag was pulled by ("" when there is none,
// or for LXC): inspect's RepoDigests entry of this name.
std::string PullSession::LocalDigest() const {
  if (r_.type != "docker") return "";
  auto view = api_.Get("/api/v1/image/docker/" + EscapePath(r_.name) + "/" + EscapePath(r_.tag) +
                       "/inspect");
  if (!view) return "";
  const std::string prefix = display_ + "@";
  for (const auto& d : ArrayField(*view, "RepoDigests")) {
    if (d.is_string() && d.get_ref<const std::string&>().starts_with(prefix)) {
      return d.get<std::string>().substr(prefix.size());
    }
  }
  return "";
}

// As docker pull ends: the digest, then whether anything new came.
void PullSession::PrintEnding(const std::string& digest_before) const {
  if (r_.json) return;
  const std::string digest = LocalDigest();
  if (!digest.empty()) std::printf("Digest: %s\n", digest.c_str());
  if (!digest_before.empty() && digest_before == digest) {
    std::printf("Image is up to date for %s\n", Ref().c_str());
  } else {
    std::printf("Pulled %s\n", Ref().c_str());
  }
}

void PullSession::Show(bool force) {
  if (r_.json) return;
  double now = Now();
  bool status_changed = state_.status != last_status_shown_;
  if (terminal_) {
    if (!force && !status_changed && now - last_frame_s_ < kFrameIntervalS) return;
    FrameInput in{&state_, speed_.BytesPerSecond(), TerminalWidth(STDOUT_FILENO),
                  TerminalHeight(STDOUT_FILENO) - 1, notice_};
    std::fputs(view_.Draw(RenderFrame(in)).c_str(), stdout);
  } else if (auto line = plain_.Update(state_, now)) {
    std::printf("%s\n", line->c_str());
  }
  std::fflush(stdout);
  last_frame_s_ = now;
  last_status_shown_ = state_.status;
}

void PullSession::SetNotice(std::string notice) {
  if (notice == notice_) return;
  if (!terminal_ && (notice_.empty() || notice.empty())) {  // a line when it comes and goes
    std::fprintf(stderr, "wharf: %s\n", notice.empty() ? "wharfd answers again" : notice.c_str());
  }
  notice_ = std::move(notice);
  Show(true);
}

Result<void> PullSession::PollOrWait(EventFeed& feed, bool& streaming) {
  auto polled = PollOnce();
  if (polled) {
    if (backoff_.failing()) {
      backoff_.Succeeded();
      SetNotice("");
      if (stream_wanted_ && (!streaming || feed.failure())) {  // it gave up meanwhile
        feed.Restart();
        streaming = true;
      }
    }
    return {};
  }
  if (polled.error().code != Code::kUnavailable) return polled;
  auto delay = backoff_.Failed(Now());
  if (!delay) {
    return Unavailable("gave up after " + std::to_string(backoff_.tries() - 1) +
                       " tries: " + polled.error().message +
                       "; the download may go on in wharfd (see `wharf status`)");
  }
  SetNotice("reconnecting… (" + polled.error().message + ")");
  Nap(*delay);  // Ctrl-C cuts it short; the loop's head asks
  return {};
}

Result<bool> PullSession::OnInterrupt(int presses) {
  if (terminal_) std::fputs("\r\x1b[K", stdout);  // over the "^C" the terminal echoed
  std::fflush(stdout);
  std::optional<std::string> answer;
  bool again = presses >= 2 || InterruptCatcher::TakeAll() > 0;  // two came close together
  if (!again) {
    // y cancels, N (the default) goes back to watching, b leaves it running in the background.
    auto asked = AskTerminal("Cancel the download of " + Ref() + "? [y/N/b] ", false);
    again = (!asked && asked.error().code == Code::kCancelled) || InterruptCatcher::TakeAll() > 0;
    if (asked) answer = *asked;
  }
  InterruptChoice choice = ChooseOnInterrupt(answer, again);
  if (choice == InterruptChoice::kKeepWatching) {
    if (terminal_) std::fputs("\x1b[1A\r\x1b[2K", stdout);  // the prompt's line goes
    Show(true);
    return true;
  }
  view_.Detach();
  if (choice == InterruptChoice::kBackground) {
    std::fprintf(stderr, "The download of %s continues in the background; see `wharf status`.\n",
                 Ref().c_str());
    return false;
  }
  if (choice == InterruptChoice::kAbort) std::fputs("\n", stderr);  // after the second "^C"
  std::string path = "/api/v1/image/downloadstatus/" + r_.type + "/" + EscapePath(r_.name) + "/" +
                     EscapePath(r_.tag);
  auto cancelled = api_.Call("DELETE", path);
  if (!cancelled && cancelled.error().code == Code::kNotFound) {
    return true;  // it ended on its own meanwhile: follow it to report how
  }
  if (!cancelled) return Error(cancelled.error());
  return Cancelled("the download of " + Ref() + " was cancelled");
}

Result<PullEnd> PullSession::Run() {
  InterruptCatcher catcher;
  EventFeed feed(api_);
  feed.Start();
  auto open = feed.WaitOpen(kOpenTimeoutMs);
  if (!open && (open.error().code == Code::kUnauthenticated ||
                open.error().code == Code::kPermissionDenied)) {
    return Error(open.error());
  }
  bool streaming = open && *open;
  if (!streaming) feed.Stop();  // an older wharfd, or a stream that would not open: poll
  stream_wanted_ = streaming;

  const std::string digest_before = LocalDigest();
  WHARF_RETURN_IF_ERROR(StartDownload());
  WHARF_RETURN_IF_ERROR(PollOnce());  // a joined job shows its progress at once
  Show(true);
  double last_news = Now();
  while (!state_.finished()) {
    if (int presses = InterruptCatcher::TakeAll(); presses > 0) {
      WHARF_ASSIGN_OR_RETURN(auto follow, OnInterrupt(presses));
      if (!follow) return PullEnd::kInBackground;
    }
    if (streaming && !backoff_.failing()) {
      if (auto e = feed.Next(200)) {
        auto j =
            e->type == "job" ? nlohmann::json::parse(e->data, nullptr, false) : nlohmann::json();
        if (Ours(j)) {
          Update(j, true);
          last_news = Now();
        }
      } else if (feed.failure()) {
        streaming = false;  // the stream gave up: carry on by polling (again once wharfd is back)
      }
      if (Now() - last_news > kSilenceCheckS) {
        WHARF_RETURN_IF_ERROR(PollOrWait(feed, streaming));
        last_news = Now();
      }
    } else {
      if (!backoff_.failing()) Nap(kPollIntervalS);  // Ctrl-C cuts it short; the loop's head asks
      WHARF_RETURN_IF_ERROR(PollOrWait(feed, streaming));
    }
    Show(false);
  }
  feed.Stop();
  Show(true);
  if (state_.status == "done") {
    PrintEnding(digest_before);
    return PullEnd::kInstalled;
  }
  // The job's answer carries its error's text only; the registry client words a 404 as
  // "... not found in ...", which is what a missing repository or tag is (exit code 4).
  Code code = state_.status == "failed" && state_.error.find(" not found") != std::string::npos
                  ? Code::kNotFound
                  : Code::kUnavailable;
  return Fail(code, "pull " + Ref() + " " + state_.status +
                        (state_.error.empty() ? "" : ": " + state_.error));
}

}  // namespace

Result<PullEnd> Pull(const ApiClient& api, const PullRequest& request) {
  PullSession session(api, request);
  return session.Run();
}

}  // namespace wharf::cli
