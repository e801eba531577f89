// ParseWwwAuthenticate (declared in client.h): RFC 7235 challenges, read tolerantly.
//
//   header    = challenge *( "," challenge )
//   challenge = scheme [ 1*SP ( token68 / auth-param *( "," auth-param ) ) ]
//   auth-param = token BWS "=" BWS ( token / quoted-string )
//
// A comma separates both parameters and challenges; an item is a parameter when its token is
// followed by "=", otherwise it starts a new challenge. Anything unparseable is skipped, so a
// garbled header yields fewer challenges or parameters, never a crash.

#include <cctype>
#include <string>
#include <string_view>

#include "wharf/base/strings.h"
#include "wharf/registry/client.h"

namespace wharf::registry {

namespace {

bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsToken68Char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~' || c == '+' || c == '/';
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[pos_]; }
  void Skip() { ++pos_; }

  void SkipSpaces() {
    while (!AtEnd() && IsSpace(s_[pos_])) ++pos_;
  }
  void SkipSpacesAndCommas() {
    while (!AtEnd() && (IsSpace(s_[pos_]) || s_[pos_] == ',')) ++pos_;
  }

  std::string_view Token() {
    size_t start = pos_;
    while (!AtEnd() && IsTokenChar(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }

  // A token68 credential: token68 characters then '=' padding, ending the challenge (only
  // spaces, then a comma or the end, may follow). Consumes nothing if there is none.
  bool Token68(std::string* out) {
    size_t p = pos_;
    while (p < s_.size() && IsToken68Char(s_[p])) ++p;
    if (p == pos_) return false;
    while (p < s_.size() && s_[p] == '=') ++p;
    size_t end = p;
    while (p < s_.size() && IsSpace(s_[p])) ++p;
    if (p < s_.size() && s_[p] != ',') return false;
    *out = std::string(s_.substr(pos_, end - pos_));
    pos_ = p;
    return true;
  }

  // A quoted-string (backslash escapes any character; an unterminated one runs to the end)
  // or a bare value up to a comma or space, tolerating characters a token does not allow.
  std::string Value() {
    std::string out;
    if (Peek() == '"') {
      Skip();
      while (!AtEnd()) {
        char c = s_[pos_++];
        if (c == '"') return out;
        if (c == '\\' && !AtEnd()) c = s_[pos_++];
        out += c;
      }
      return out;
    }
    while (!AtEnd() && s_[pos_] != ',' && !IsSpace(s_[pos_])) out += s_[pos_++];
    return out;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<Challenge> ParseWwwAuthenticate(std::string_view header) {
  std::vector<Challenge> challenges;
  Scanner in(header);
  while (true) {
    in.SkipSpacesAndCommas();
    if (in.AtEnd()) break;
    std::string_view token = in.Token();
    if (token.empty()) {  // garbage: skip one character and resynchronise
      in.Skip();
      continue;
    }
    in.SkipSpaces();
    if (in.Peek() == '=') {
      in.Skip();
      in.SkipSpaces();
      std::string value = in.Value();
      // A parameter before any scheme belongs to nothing and is dropped.
      if (!challenges.empty()) challenges.back().params.emplace(Lower(token), std::move(value));
      continue;
    }
    Challenge& challenge = challenges.emplace_back();
    challenge.scheme = Lower(token);
    std::string token68;
    if (in.Token68(&token68)) challenge.params.emplace("token68", std::move(token68));
  }
  return challenges;
}

}  // namespace wharf::registry
