// `--format` templates as `docker inspect -f` takes them: a small subset of Go's
// text/template over a JSON value. Literal text is copied; each action `{{ ... }}` is one of
//   {{.}}  {{.Field}}  {{.Field.Sub.Deeper}}   the value at that path, printed as Go's fmt
//                                              prints it: strings bare, lists as [a b],
//                                              objects as map[k:v ...] (keys sorted), null
//                                              as <nil>, integers without a decimal point
//   {{json .Path}}  {{.Path | json}}           the value as compact JSON
// As docker does for a missing map key, a field the object lacks prints `<no value>`; a field
// asked of something that is not an object (a string, a list, a missing parent) is an error
// that names the field. Anything else (range, if, variables, unknown functions, an unclosed
// action) is refused by Parse with an InvalidArgument naming it. Pure; a parsed template may
// be rendered from several threads at once.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/base/status.h"

namespace wharf::cli {

class FormatTemplate {
 public:
  // InvalidArgument naming what is wrong and where (its offset in `text`).
  static Result<FormatTemplate> Parse(std::string_view text);
  // The text for `value`; InvalidArgument when a path goes through something not an object.
  Result<std::string> Render(const nlohmann::json& value) const;

 private:
  struct Piece {
    std::string literal;  // copied when `is_action` is false
    bool is_action = false;
    std::vector<std::string> path;  // empty: the value itself
    bool json = false;
    std::string source;  // the action as written, for errors
  };
  std::vector<Piece> pieces_;
};

// Go's fmt of a JSON value ("%v"), as described above.
std::string GoFormat(const nlohmann::json& value);

}  // namespace wharf::cli
