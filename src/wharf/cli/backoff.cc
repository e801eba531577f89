#include "wharf/cli/backoff.h"

#include <algorithm>

namespace wharf::cli {

std::optional<double> Backoff::Failed(double now_s) {
  if (tries_ == 0) first_failure_s_ = now_s;
  ++tries_;
  if (tries_ > o_.max_tries || now_s - first_failure_s_ >= o_.max_s) return std::nullopt;
  double delay = o_.first_s;
  for (int i = 1; i < tries_ && delay < o_.max_delay_s; ++i) delay *= 2;
  delay = std::min(delay, o_.max_delay_s);
  return std::min(delay, std::max(o_.max_s - (now_s - first_failure_s_), 0.0));
}

}  // namespace wharf::cli
