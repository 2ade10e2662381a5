#include "audience/internal/scanner.h"

#include <cctype>

#include "audience/internal/syntax.h"

namespace quanyu::audience::internal {
namespace {

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsWordStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsTokenChar(char c) { return IsNameChar(c) || c == '.' || c == '+'; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

void Scanner::SkipSpace() {
  while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                 text_[pos_] == '\r')) {
    ++pos_;
  }
}

bool Scanner::AtEnd() {
  SkipSpace();
  return pos_ >= text_.size();
}

char Scanner::Peek() { return AtEnd() ? '\0' : text_[pos_]; }

bool Scanner::TryChar(char c) {
  if (Peek() != c || c == '\0') return false;
  ++pos_;
  return true;
}

size_t Scanner::RunOf(size_t from, bool (*accept)(char)) const {
  size_t end = from;
  while (end < text_.size() && accept(text_[end])) ++end;
  return end - from;
}

std::string_view Scanner::PeekWord() {
  if (AtEnd() || !IsWordStart(text_[pos_])) return {};
  return text_.substr(pos_, RunOf(pos_, IsWordChar));
}

bool Scanner::PeekKeyword(std::string_view keyword) {
  return EqualsIgnoreCase(PeekWord(), keyword);
}

bool Scanner::TryKeyword(std::string_view keyword) {
  if (!PeekKeyword(keyword)) return false;
  pos_ += keyword.size();
  return true;
}

std::string_view Scanner::TryComparison() {
  const char c = Peek();
  if (c != '=' && c != '!' && c != '<' && c != '>') return {};
  const bool two = pos_ + 1 < text_.size() && text_[pos_ + 1] == '=';
  if (c == '!' && !two) return {};
  const std::string_view op = text_.substr(pos_, two && c != '=' ? 2 : 1);
  pos_ += op.size();
  return op;
}

Result<std::string> Scanner::ReadString() {
  if (Peek() != '"') return Expected("a string");
  const size_t start = pos_++;
  std::string out;
  while (true) {
    if (pos_ >= text_.size() || text_[pos_] == '\n') {
      return ErrorAt(start, "unterminated string");
    }
    const char c = text_[pos_];
    if (c == '"') break;
    if (static_cast<unsigned char>(c) < 0x20) {
      return ErrorAt(pos_, "control character in a string: write it as an escape (\\t, \\u0001)");
    }
    if (c == '\\') {
      RETURN_IF_ERROR(ReadEscape(&out));
      continue;
    }
    out += c;
    ++pos_;
  }
  ++pos_;
  return out;
}

Status Scanner::ReadEscape(std::string* out) {
  const size_t start = pos_;
  if (pos_ + 1 >= text_.size()) return ErrorAt(start, "unterminated string");
  const char e = text_[pos_ + 1];
  pos_ += 2;
  static constexpr std::string_view kSimple = "\"\\/bfnrt", kValue = "\"\\/\b\f\n\r\t";
  if (const size_t i = kSimple.find(e); i != std::string_view::npos) {
    *out += kValue[i];
    return Status::OK();
  }
  if (e != 'u') {
    return ErrorAt(start,
                   "invalid escape in a string: use \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX");
  }
  auto read_hex4 = [&](uint32_t* cp) {
    if (pos_ + 4 > text_.size()) return false;
    *cp = 0;
    for (int k = 0; k < 4; ++k) {
      const int h = HexValue(text_[pos_ + k]);
      if (h < 0) return false;
      *cp = *cp * 16 + h;
    }
    pos_ += 4;
    return true;
  };
  uint32_t cp = 0;
  if (!read_hex4(&cp)) return ErrorAt(start, "\\u must be followed by 4 hex digits");
  if (cp >= 0xDC00 && cp <= 0xDFFF) return ErrorAt(start, "lone UTF-16 surrogate in \\u escape");
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    uint32_t low = 0;
    if (text_.substr(pos_, 2) != "\\u")
      return ErrorAt(start, "lone UTF-16 surrogate in \\u escape");
    pos_ += 2;
    if (!read_hex4(&low) || low < 0xDC00 || low > 0xDFFF) {
      return ErrorAt(start, "lone UTF-16 surrogate in \\u escape");
    }
    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
  }
  AppendUtf8(cp, out);
  return Status::OK();
}

Result<Json> Scanner::ReadNumber() {
  SkipSpace();
  const size_t start = pos_;
  size_t i = pos_;
  auto digits = [&] {
    const size_t n = RunOf(i, IsDigit);
    i += n;
    return n;
  };
  if (i < text_.size() && text_[i] == '-') ++i;
  const size_t int_start = i;
  bool ok = digits() > 0 && !(text_[int_start] == '0' && i - int_start > 1);
  if (ok && i < text_.size() && text_[i] == '.') {
    ++i;
    ok = digits() > 0;
  }
  if (ok && i < text_.size() && (text_[i] == 'e' || text_[i] == 'E')) {
    ++i;
    if (i < text_.size() && (text_[i] == '+' || text_[i] == '-')) ++i;
    ok = digits() > 0;
  }
  if (!ok || (i < text_.size() && IsTokenChar(text_[i]))) {
    const size_t end = start + 1 + RunOf(start + 1, IsTokenChar);
    return ErrorAt(start, "invalid number \"" + std::string(text_.substr(start, end - start)) +
                              "\" (numbers are written as in JSON)");
  }
  try {
    Json value = Json::parse(text_.substr(start, i - start));
    pos_ = i;
    return value;
  } catch (const Json::exception&) {
    return ErrorAt(start, "number out of range");
  }
}

Result<int64_t> Scanner::ReadDuration(std::string_view after) {
  SkipSpace();
  const size_t start = pos_;
  const size_t n = RunOf(pos_, IsTokenChar);
  if (n == 0) {
    return Expected("a duration such as 30d after \"" + std::string(after) + "\"");
  }
  const std::string_view token = text_.substr(start, n);
  auto seconds = ParseDuration(token);
  if (!seconds) {
    return ErrorAt(start, "bad duration \"" + std::string(token) +
                              "\": " + std::string(kDurationHelp) + " (at most 1000 years)");
  }
  pos_ += n;
  return *seconds;
}

Result<std::string> Scanner::ReadName(std::string_view after) {
  const size_t start = pos_;
  if (pos_ < text_.size() && text_[pos_] == '"') {
    ASSIGN_OR_RETURN(std::string name, ReadString());
    if (name.empty()) return ErrorAt(start, "a name must not be empty");
    return name;
  }
  while (true) {
    const size_t n = RunOf(pos_, IsNameChar);
    if (n == 0) {
      const std::string_view before = pos_ > start ? text_.substr(start, pos_ - start) : after;
      return Expected("a name after \"" + std::string(before) + "\"");
    }
    pos_ += n;
    if (pos_ >= text_.size() || text_[pos_] != '.') break;
    ++pos_;  // a dot continues the path: address.city
  }
  return std::string(text_.substr(start, pos_ - start));
}

Status Scanner::ErrorAt(size_t offset, std::string_view message) const {
  int line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text_.size(); ++i) {
    if (text_[i] == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) {
      ++column;
    }
  }
  return Status::InvalidArgument("line " + std::to_string(line) + ", column " +
                                 std::to_string(column) + ": " + std::string(message));
}

Status Scanner::Expected(std::string_view what) {
  return ErrorAt(AtEnd() ? text_.size() : pos_,
                 "expected " + std::string(what) + ", found " + Found());
}

std::string Scanner::Found() {
  if (AtEnd()) return "end of input";
  const char c = text_[pos_];
  if (c == '"') return "a string";
  size_t n = 0;
  if (IsTokenChar(c)) {
    n = std::min<size_t>(RunOf(pos_, IsTokenChar), 40);
  } else if ((c == '!' || c == '<' || c == '>') && pos_ + 1 < text_.size() &&
             text_[pos_ + 1] == '=') {
    n = 2;
  } else {
    n = 1;  // one code point
    while (pos_ + n < text_.size() &&
           (static_cast<unsigned char>(text_[pos_ + n]) & 0xC0) == 0x80) {
      ++n;
    }
  }
  return "\"" + std::string(text_.substr(pos_, n)) + "\"";
}

}  // namespace quanyu::audience::internal
