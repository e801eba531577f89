#include "wharf/base/unique_fd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace wharf {
namespace {

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

// A fresh descriptor for each test: the read end of a pipe whose write end is closed.
int OpenFd() {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  ::close(fds[1]);
  return fds[0];
}

TEST(UniqueFdTest, EmptyByDefaultAndForNegativeValues) {
  UniqueFd none;
  EXPECT_FALSE(none);
  EXPECT_EQ(none.get(), -1);
  UniqueFd failed_open(-5);
  EXPECT_FALSE(failed_open);
  EXPECT_EQ(failed_open.get(), -1);
  EXPECT_EQ(failed_open.release(), -1);
}

TEST(UniqueFdTest, ClosesOnDestruction) {
  int raw = OpenFd();
  {
    UniqueFd fd(raw);
    EXPECT_TRUE(fd);
    EXPECT_EQ(fd.get(), raw);
    EXPECT_TRUE(IsOpen(raw));
  }
  EXPECT_FALSE(IsOpen(raw));
}

TEST(UniqueFdTest, ReleaseGivesUpOwnership) {
  int raw = OpenFd();
  {
    UniqueFd fd(raw);
    EXPECT_EQ(fd.release(), raw);
    EXPECT_FALSE(fd);
  }
  EXPECT_TRUE(IsOpen(raw));
  ::close(raw);
}

TEST(UniqueFdTest, ResetClosesTheOldDescriptor) {
  int first = OpenFd();
  int second = OpenFd();
  UniqueFd fd(first);
  fd.reset(second);
  EXPECT_FALSE(IsOpen(first));
  EXPECT_EQ(fd.get(), second);
  fd.reset(second);  // the same descriptor again: kept open
  EXPECT_TRUE(IsOpen(second));
  fd.reset();
  EXPECT_FALSE(fd);
  EXPECT_FALSE(IsOpen(second));
}

TEST(UniqueFdTest, ClosingKeepsErrno) {
  UniqueFd fd(OpenFd());
  errno = ENOENT;
  fd.reset(-1);
  EXPECT_EQ(errno, ENOENT);
}

TEST(UniqueFdTest, MovesTransferOwnership) {
  int first = OpenFd();
  int second = OpenFd();
  UniqueFd a(first);
  UniqueFd b(std::move(a));
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): a moved-from UniqueFd is empty
  EXPECT_EQ(b.get(), first);

  UniqueFd c(second);
  c = std::move(b);  // closes `second`, takes `first`
  EXPECT_FALSE(IsOpen(second));
  EXPECT_EQ(c.get(), first);
  EXPECT_TRUE(IsOpen(first));

  UniqueFd& same = c;
  c = std::move(same);  // self-move keeps the descriptor
  EXPECT_EQ(c.get(), first);
  EXPECT_TRUE(IsOpen(first));
}

static_assert(!std::is_copy_constructible_v<UniqueFd>);
static_assert(!std::is_copy_assignable_v<UniqueFd>);
static_assert(std::is_nothrow_move_constructible_v<UniqueFd>);
static_assert(!std::is_convertible_v<UniqueFd, bool>);  // explicit operator bool

}  // namespace
}  // namespace wharf
