// When a registry request is tried again, and how long to wait first. Internal to the registry
// module: the client and the authenticator wrap single exchanges in Retry().
//
// Transient, and so retried: HTTP 408, 429, 500, 502, 503 and 504, and transport failures
// (connection refused or reset, a cut or stalled transfer, DNS) except certificate problems,
// which no retry can fix. The wait doubles from Options::backoff_ms up to max_backoff_ms
// (with jitter, so that many clients do not come back in step); a Retry-After header, in
// seconds or as an HTTP date, lengthens it, capped at Options::max_retry_after_s.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "wharf/base/clock.h"
#include "wharf/base/status.h"
#include "wharf/registry/client.h"
#include "wharf/registry/http_transfer.h"

namespace wharf::registry {

using Millis = std::chrono::milliseconds;

// What one failed try says about trying again.
struct RetryAdvice {
  bool transient = false;
  std::optional<Millis> retry_after;  // the server's Retry-After, if it sent one
  std::string answer;                 // "HTTP 503": set by AdviceForStatus, named if cancelled
};

// True for the HTTP statuses worth another try.
bool IsTransientStatus(long status);
// The advice for an answer that is not a success: its status and its Retry-After header
// value ("" when absent).
RetryAdvice AdviceForStatus(long status, std::string_view retry_after);
RetryAdvice AdviceForResponse(const HttpResponse& response);
// The advice for a PerformHttp error: transient for transport failures other than TLS
// certificate problems; never for TooLarge, Cancelled or a sink's error.
RetryAdvice AdviceForFailure(const Status& status, TransportFailure failure);

// Retry-After: delta-seconds ("120") or an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT",
// relative to `now`; a date in the past is 0). nullopt when it is neither.
std::optional<Millis> ParseRetryAfter(
    std::string_view value,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// Waits on Options::clock, so that with a FakeClock a backoff takes no time.
class RetryPolicy {
 public:
  explicit RetryPolicy(const Options& options);

  int tries() const { return tries_; }  // Options::request_tries, at least 1
  // The wait after failed try number `attempt` (1-based): the backoff for that try, at least
  // the server's Retry-After (capped).
  Millis Delay(int attempt, const std::optional<Millis>& retry_after) const;
  // Sleeps `delay` on the clock, waking early when `cancelled` (may be unset) returns true:
  // false then.
  bool Sleep(Millis delay, const std::function<bool()>& cancelled) const;

 private:
  Clock& clock_;
  int tries_;
  Millis backoff_;
  Millis max_backoff_;
  Millis max_retry_after_;
};

// Runs `once` (a callable RetryAdvice& → Result<T>) up to `tries` times while its advice
// says transient, waiting as `policy` says between tries. That is a failure, or an answer
// `once` returns for its caller to judge (the HttpGetter returns a 503 as a response). A
// cancelled wait ends with Cancelled. The last result is returned; a failure says how many
// tries it took.
template <typename Once>
auto Retry(const RetryPolicy& policy, int tries, const std::function<bool()>& cancelled,
           Once&& once) -> decltype(once(std::declval<RetryAdvice&>())) {
  for (int attempt = 1;; ++attempt) {
    RetryAdvice advice;
    auto result = once(advice);
    if (!advice.transient) return result;
    if (attempt >= tries) {
      if (!result && tries > 1) {
        result.error().message += " (tried " + std::to_string(tries) + " times)";
      }
      return result;
    }
    if (!policy.Sleep(policy.Delay(attempt, advice.retry_after), cancelled)) {
      std::string last = result ? advice.answer : result.error().message;
      return Cancelled((last.empty() ? std::string("a transient answer") : last) +
                       " (stopped before trying again)");
    }
  }
}

}  // namespace wharf::registry
