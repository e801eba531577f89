// WHARF_RETURN_IF_ERROR and WHARF_ASSIGN_OR_RETURN: the error goes up unchanged, the value is
// moved (a move-only type works), the expression is evaluated once, and several uses fit in
// one scope.
#include "wharf/base/status.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

namespace wharf {
namespace {

Result<std::unique_ptr<int>> MakeInt(int value, int* calls = nullptr) {
  if (calls != nullptr) ++*calls;
  if (value < 0) return InvalidArgument("negative: " + std::to_string(value));
  return std::make_unique<int>(value);
}

Result<void> Check(bool ok) {
  if (!ok) return NotFound("nothing here");
  return {};
}

// Two values in one scope; the function returns another Result type than its callees.
Result<std::string> Sum(int a, int b, int* calls) {
  WHARF_ASSIGN_OR_RETURN(auto x, MakeInt(a, calls));
  WHARF_ASSIGN_OR_RETURN(std::unique_ptr<int> y, MakeInt(b, calls));
  return std::to_string(*x + *y);
}

Result<int> Twice(bool ok) {
  WHARF_RETURN_IF_ERROR(Check(ok));
  WHARF_RETURN_IF_ERROR(Check(ok));
  return 2;
}

TEST(StatusMacrosTest, AssignOrReturnMovesTheValueOut) {
  int calls = 0;
  auto sum = Sum(2, 3, &calls);
  ASSERT_TRUE(sum) << sum.error().ToString();
  EXPECT_EQ(*sum, "5");
  EXPECT_EQ(calls, 2);  // each expression once
}

TEST(StatusMacrosTest, AssignOrReturnReturnsTheFirstError) {
  int calls = 0;
  auto sum = Sum(-1, 3, &calls);
  ASSERT_FALSE(sum);
  EXPECT_EQ(sum.error().code, Code::kInvalidArgument);
  EXPECT_EQ(sum.error().message, "negative: -1");
  EXPECT_EQ(calls, 1);  // stopped before the second

  sum = Sum(1, -2, &calls);
  ASSERT_FALSE(sum);
  EXPECT_EQ(sum.error().message, "negative: -2");
}

TEST(StatusMacrosTest, AssignOrReturnIntoAVariableInScopeAndWithCommas) {
  auto f = []() -> Result<int> {
    std::map<std::string, int> m;
    WHARF_ASSIGN_OR_RETURN(
        m, Result<std::map<std::string, int>>(std::map<std::string, int>{{"a", 1}, {"b", 2}}));
    return m.at("a") + m.at("b");
  };
  EXPECT_EQ(f(), 3);
}

TEST(StatusMacrosTest, AssignOrReturnKeepsAnOptionalAsIs) {
  auto f = [](std::optional<int> held) -> Result<bool> {
    WHARF_ASSIGN_OR_RETURN(std::optional<int> got, Result<std::optional<int>>(held));
    return got.has_value();
  };
  EXPECT_EQ(f(std::nullopt), false);  // an empty optional is a success, not an error
  EXPECT_EQ(f(7), true);
}

TEST(StatusMacrosTest, ReturnIfErrorPassesSuccessAndReturnsTheError) {
  EXPECT_EQ(Twice(true), 2);
  auto failed = Twice(false);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Code::kNotFound);
  EXPECT_EQ(failed.error().message, "nothing here");
}

}  // namespace
}  // namespace wharf
