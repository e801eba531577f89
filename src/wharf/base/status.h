// Errors as values. Every fallible function in wharf returns Result<T>; an error is a Status
// with a kind (Code) and a message meant for a person. Only the api module maps kinds to HTTP.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace wharf {

enum class Code {
  kOk = 0,
  kInvalidArgument,    // the caller's input is wrong (HTTP 400)
  kUnauthenticated,    // no or bad credentials (401)
  kPermissionDenied,   // authenticated but not allowed (403)
  kNotFound,           // the thing does not exist (404)
  kConflict,           // the operation clashes with current state (409)
  kTooLarge,           // input or upstream object over a limit (413 / job error)
  kResourceExhausted,  // too many requests; try again later (429)
  kUnavailable,        // an upstream registry or server failed (502)
  kDataLoss,           // bytes did not match their digest or size
  kCancelled,          // stopped on request
  kInternal,           // a bug or an OS failure we did not expect (500)
};

std::string_view CodeName(Code code);

struct Status {
  Code code = Code::kOk;
  std::string message;

  bool ok() const { return code == Code::kOk; }
  // "NotFound: message"
  std::string ToString() const;
};

template <typename T>
using Result = std::expected<T, Status>;

using Error = std::unexpected<Status>;

inline Error Fail(Code code, std::string message) {
  return Error(Status{code, std::move(message)});
}
inline Error InvalidArgument(std::string m) { return Fail(Code::kInvalidArgument, std::move(m)); }
inline Error Unauthenticated(std::string m) { return Fail(Code::kUnauthenticated, std::move(m)); }
inline Error PermissionDenied(std::string m) { return Fail(Code::kPermissionDenied, std::move(m)); }
inline Error NotFound(std::string m) { return Fail(Code::kNotFound, std::move(m)); }
inline Error Conflict(std::string m) { return Fail(Code::kConflict, std::move(m)); }
inline Error TooLarge(std::string m) { return Fail(Code::kTooLarge, std::move(m)); }
inline Error ResourceExhausted(std::string m) {
  return Fail(Code::kResourceExhausted, std::move(m));
}
inline Error Unavailable(std::string m) { return Fail(Code::kUnavailable, std::move(m)); }
inline Error DataLoss(std::string m) { return Fail(Code::kDataLoss, std::move(m)); }
inline Error Cancelled(std::string m) { return Fail(Code::kCancelled, std::move(m)); }
inline Error Internal(std::string m) { return Fail(Code::kInternal, std::move(m)); }

// Internal error from errno with context: "open /x: No such file or directory".
Error ErrnoError(std::string_view context, int err);

}  // namespace wharf

// The two ways to hand an error up from a function that returns a Result. Both evaluate
// `expr` (a Result<T>) once; on an error they return it from the enclosing function (as an
// Error, so that function may return any Result<U>); on success:
//
//   WHARF_RETURN_IF_ERROR(store.Delete(digest));             // the value is dropped
//   WHARF_ASSIGN_OR_RETURN(auto rows, db.Query(sql));         // the value is moved into `rows`
//   WHARF_ASSIGN_OR_RETURN(existing, Load(path));             // or into a variable in scope
//
// WHARF_ASSIGN_OR_RETURN expands to several statements and declares `decl` (and a hidden
// temporary) in the enclosing scope, so it cannot be the body of an unbraced if or loop. The
// value keeps its type: for a Result<std::optional<T>> `decl` is the optional. For a
// Result<void>, use WHARF_RETURN_IF_ERROR.
#define WHARF_RETURN_IF_ERROR(expr)                       \
  do {                                                    \
    if (auto wharf_r_ = (expr); !wharf_r_) {              \
      return ::wharf::Error(std::move(wharf_r_).error()); \
    }                                                     \
  } while (0)

#define WHARF_ASSIGN_OR_RETURN(decl, ...) \
  WHARF_ASSIGN_OR_RETURN_IMPL_(WHARF_STATUS_CONCAT_(wharf_result_, __COUNTER__), decl, __VA_ARGS__)

#define WHARF_ASSIGN_OR_RETURN_IMPL_(result, decl, ...)          \
  auto result = (__VA_ARGS__);                                   \
  if (!result) return ::wharf::Error(std::move(result).error()); \
  decl = *std::move(result)

#define WHARF_STATUS_CONCAT_(a, b) WHARF_STATUS_CONCAT_INNER_(a, b)
#define WHARF_STATUS_CONCAT_INNER_(a, b) a##b
