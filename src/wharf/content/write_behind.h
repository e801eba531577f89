// Runs one job at a time on a thread of its own, so that the thread handing jobs over goes on
// meanwhile: the blob store writes a full buffer to disk while the next one fills, and a slow
// disk no longer stalls the download (and with it the registry's sending) for each write.
// The thread starts with the first job and ends with the object, which waits for the job in
// flight. Not thread-safe: one thread hands jobs over and waits for them.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace wharf::content {

class WriteBehind {
 public:
  WriteBehind() = default;
  ~WriteBehind();
  WriteBehind(const WriteBehind&) = delete;
  WriteBehind& operator=(const WriteBehind&) = delete;

  // Waits for the job in flight, then starts `job`. Its result is kept for Wait().
  void Start(std::function<int()> job);
  // Waits until no job is in flight; returns the result of the last one since the previous
  // Wait() (0 if there was none), then forgets it.
  int Wait();

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::function<int()> job_;  // set while a job waits for the thread or runs
  bool busy_ = false;
  bool stopping_ = false;
  int result_ = 0;
  std::thread thread_;
};

}  // namespace wharf::content
