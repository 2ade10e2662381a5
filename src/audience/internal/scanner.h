// Scanner: the character-level cursor of the segment language's text parser
// (text_parser.cc). It reads the language's tokens — words, strings, numbers,
// durations, names, comparison symbols — and turns byte offsets into the
// "line L, column C: MESSAGE" errors the language promises (1-based; columns
// count UTF-8 code points).
//
// The grammar is context-sensitive (`30d` is a duration after `within` and
// an error after `=`; `in` is a property name after `where`), so the parser
// asks for the token kind it expects instead of taking a token stream.
//
// Not thread-safe; one per parse. REQUIRES: the text is valid UTF-8.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "audience/definition.h"
#include "common/result.h"

namespace quanyu::audience::internal {

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  // Skips spaces, tabs and line breaks; the other calls do this first unless
  // they say otherwise.
  void SkipSpace();
  size_t pos() const { return pos_; }
  bool AtEnd();
  // The next character, or '\0' at the end.
  char Peek();
  // Consumes `c` when it comes next.
  bool TryChar(char c);
  // True when the next word (letters, digits, '_') is `keyword`, ignoring
  // case; TryKeyword also consumes it.
  bool PeekKeyword(std::string_view keyword);
  bool TryKeyword(std::string_view keyword);
  // The next word as written, without consuming it ("" if none).
  std::string_view PeekWord();
  // Consumes one of = != < <= > >= and returns it; "" when none comes next.
  std::string_view TryComparison();

  // A double-quoted string with JSON escapes. Errors: unterminated string,
  // bad escape, raw control character.
  Result<std::string> ReadString();
  // A JSON number (integers stay integers). Errors: malformed, out of range.
  Result<Json> ReadNumber();
  // N followed by s, m, h, d or w, in seconds; `after` names what precedes it
  // in error messages.
  Result<int64_t> ReadDuration(std::string_view after);
  // A dotted bare name (address.city) or a quoted string, non-empty. Does
  // not skip space first: `trait. city` is an error.
  Result<std::string> ReadName(std::string_view after);

  // InvalidArgument "line L, column C: message" for byte `offset`.
  Status ErrorAt(size_t offset, std::string_view message) const;
  // "expected WHAT, found TOKEN" at the next token.
  Status Expected(std::string_view what);
  // The next token as error messages show it: "\"AND\"", "a string",
  // "end of input".
  std::string Found();

 private:
  size_t RunOf(size_t from, bool (*accept)(char)) const;
  Status ReadEscape(std::string* out);

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace quanyu::audience::internal
