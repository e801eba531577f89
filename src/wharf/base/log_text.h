// Text from outside (user names, image names, header values) made safe to put in a log line,
// so that it cannot forge another line (a newline followed by "audit: ..."), break out of the
// double quotes it is logged in, move the cursor of a terminal showing the log, or flood the
// log with its length.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wharf {

// `text` escaped and bounded:
//   \n \r \t                   -> \n \r \t (backslash and letter)
//   other bytes < 0x20, 0x7f   -> \xHH
//   \ and "                    -> \\ and \"
//   bytes that are not well-formed UTF-8 (see utf8.h), each -> \xHH
//   C1 controls U+0080..U+009F, the line and paragraph separators U+2028 and U+2029, and the
//   bidirectional controls U+202A..U+202E and U+2066..U+2069 -> \uHHHH
// Other characters, including well-formed non-ASCII ones, are kept. The result never holds a
// control character, so "user=\"" + LogSafe(name) + "\"" stays one line and one quoted field.
//
// At most `max_bytes` bytes of escaped text are kept, cut between characters (never inside a
// character or an escape); when text was cut, "...(N bytes)" follows, N being the size of the
// whole input. So the result has at most max_bytes + 31 bytes.
std::string LogSafe(std::string_view text, size_t max_bytes = 128);

}  // namespace wharf
