// When to try again after wharfd stopped answering, and when to give up: the delays start at
// `first_s` and double up to `max_delay_s`; after `max_tries` failures in a row, or once
// `max_s` seconds have passed since the first of them, it gives up. A success starts afresh.
// Pure (the caller supplies the clock); not thread-safe.
#pragma once

#include <optional>

namespace wharf::cli {

class Backoff {
 public:
  struct Options {
    double first_s = 0.5;
    double max_delay_s = 5.0;
    int max_tries = 30;
    double max_s = 90.0;
  };
  Backoff() : Backoff(Options{}) {}
  explicit Backoff(Options options) : o_(options) {}

  // A failure at `now_s`: the delay before the next try, or nullopt to give up.
  std::optional<double> Failed(double now_s);
  void Succeeded() { tries_ = 0; }
  bool failing() const { return tries_ > 0; }
  int tries() const { return tries_; }
  const Options& options() const { return o_; }

 private:
  Options o_;
  int tries_ = 0;
  double first_failure_s_ = 0;
};

}  // namespace wharf::cli
