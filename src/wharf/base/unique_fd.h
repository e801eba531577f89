// UniqueFd owns one file descriptor and closes it when it is destroyed or reset, so that no
// early return leaks it. Move-only. Not thread-safe: one owner at a time, like the int it
// wraps. A close error on those paths is ignored; when it matters (after writing a file that
// must be durable), close the descriptor yourself: ::close(fd.release()).
#pragma once

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace wharf {

class UniqueFd {
 public:
  UniqueFd() = default;
  // Takes ownership of `fd`; a negative value (a failed open) owns nothing.
  explicit UniqueFd(int fd) : fd_(fd < 0 ? -1 : fd) {}
  ~UniqueFd() { reset(); }

  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  // The descriptor, still owned by this object; -1 when empty.
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

  // Gives up ownership without closing: returns the descriptor (-1 when empty).
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }

  // Closes the owned descriptor, if any, then owns `fd` (-1 or any negative value: nothing).
  // errno is kept, so `fd.reset(::open(...)); if (!fd) ... errno` reads open's error.
  void reset(int fd = -1) {
    int old = std::exchange(fd_, fd < 0 ? -1 : fd);
    if (old >= 0 && old != fd_) {
      int saved = errno;
      ::close(old);
      errno = saved;
    }
  }

 private:
  int fd_ = -1;
};

}  // namespace wharf
