#include "wharf/registry/retry.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <string>

#include "wharf/base/strings.h"

namespace wharf::registry {

namespace {

// Nobody waits longer than this for one Retry-After in seconds, however large the number.
constexpr int64_t kMaxRetryAfterSeconds = 24 * 3600;

// A uniform draw from [0, bound] for jitter; thread-local so that threads do not contend.
int64_t Jitter(int64_t bound) {
  if (bound <= 0) return 0;
  thread_local std::minstd_rand rng{std::random_device{}()};
  return std::uniform_int_distribution<int64_t>(0, bound)(rng);
}

}  // namespace

bool IsTransientStatus(long status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

RetryAdvice AdviceForStatus(long status, std::string_view retry_after) {
  RetryAdvice advice;
  advice.transient = IsTransientStatus(status);
  advice.answer = "HTTP " + std::to_string(status);
  if (!retry_after.empty()) advice.retry_after = ParseRetryAfter(retry_after);
  return advice;
}

RetryAdvice AdviceForResponse(const HttpResponse& response) {
  return AdviceForStatus(response.status, response.headers.Get("retry-after"));
}

RetryAdvice AdviceForFailure(const Status& status, TransportFailure failure) {
  // Only PerformHttp's transport failures are Unavailable; TooLarge, Cancelled and a sink's
  // own errors (disk full, a digest mismatch) are final.
  return RetryAdvice{.transient = status.code == Code::kUnavailable &&
                                  failure != TransportFailure::kTlsCertificate};
}

std::optional<Millis> ParseRetryAfter(std::string_view value,
                                      std::chrono::system_clock::time_point now) {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    int64_t seconds = 0;
    for (char c : value) {
      seconds = std::min(seconds * 10 + (c - '0'), kMaxRetryAfterSeconds);
    }
    return std::chrono::duration_cast<Millis>(std::chrono::seconds(seconds));
  }
  // curl_getdate reads every date format HTTP allows (IMF-fixdate, RFC 850, asctime).
  time_t when = curl_getdate(std::string(value).c_str(), nullptr);
  if (when == -1) return std::nullopt;
  auto delta = std::chrono::system_clock::from_time_t(when) - now;
  return std::max(Millis(0), std::chrono::duration_cast<Millis>(delta));
}

RetryPolicy::RetryPolicy(const Options& options)
    : clock_(*options.clock),
      tries_(std::max(1, options.request_tries)),
      backoff_(std::max(0, options.backoff_ms)),
      max_backoff_(std::max(options.backoff_ms, options.max_backoff_ms)),
      max_retry_after_(std::chrono::seconds(std::max(0, options.max_retry_after_s))) {}

Millis RetryPolicy::Delay(int attempt, const std::optional<Millis>& retry_after) const {
  // backoff · 2^(attempt-1), capped; then "equal jitter": half fixed, half random.
  Millis backoff = backoff_;
  for (int i = 1; i < attempt && backoff < max_backoff_; ++i) backoff *= 2;
  backoff = std::min(backoff, max_backoff_);
  Millis delay = backoff / 2 + Millis(Jitter(backoff.count() - backoff.count() / 2));
  if (retry_after) delay = std::max(delay, std::min(*retry_after, max_retry_after_));
  return delay;
}

bool RetryPolicy::Sleep(Millis delay, const std::function<bool()>& cancelled) const {
  return clock_.SleepFor(delay, cancelled);
}

}  // namespace wharf::registry
