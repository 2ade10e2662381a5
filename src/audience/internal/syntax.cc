#include "audience/internal/syntax.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace quanyu::audience::internal {
namespace {

struct NamespaceEntry {
  Namespace ns;
  std::string_view name;
};
constexpr NamespaceEntry kNamespaces[] = {{Namespace::kTrait, "trait"},
                                          {Namespace::kComputed, "computed"},
                                          {Namespace::kRfm, "rfm"},
                                          {Namespace::kPredicted, "predicted"},
                                          {Namespace::kConsent, "consent"}};

struct CmpOpEntry {
  CmpOp op;
  std::string_view json;
};
constexpr CmpOpEntry kCmpOps[] = {{CmpOp::kEq, "="},          {CmpOp::kNe, "!="},
                                  {CmpOp::kLt, "<"},          {CmpOp::kLe, "<="},
                                  {CmpOp::kGt, ">"},          {CmpOp::kGe, ">="},
                                  {CmpOp::kIn, "in"},         {CmpOp::kContains, "contains"},
                                  {CmpOp::kExists, "exists"}, {CmpOp::kBetween, "between"}};

constexpr std::string_view kFilterOps[] = {"=",  "!=",     "<",        "<=",
                                           ">",  ">=",     "contains", "not_contains",
                                           "in", "not_in", "is_set",   "is_not_set"};
constexpr std::string_view kRfmFields[] = {"segment", "r", "f", "m", "score"};

struct Unit {
  char letter;
  int64_t seconds;
};
constexpr Unit kUnits[] = {{'w', 604800}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

std::string_view NamespaceName(Namespace ns) {
  for (const auto& e : kNamespaces) {
    if (e.ns == ns) return e.name;
  }
  return "trait";
}

std::optional<Namespace> NamespaceFromName(std::string_view word) {
  for (const auto& e : kNamespaces) {
    if (e.name == word) return e.ns;
  }
  return std::nullopt;
}

std::string_view CmpOpJsonName(CmpOp op) {
  for (const auto& e : kCmpOps) {
    if (e.op == op) return e.json;
  }
  return "=";
}

std::optional<CmpOp> CmpOpFromJsonName(std::string_view name) {
  for (const auto& e : kCmpOps) {
    if (e.json == name) return e.op;
  }
  return std::nullopt;
}

std::optional<CmpOp> CmpOpFromSymbol(std::string_view symbol) {
  if (!IsBoundOp(symbol)) return std::nullopt;
  return CmpOpFromJsonName(symbol);
}

bool IsBoundOp(std::string_view op) {
  return op == "=" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=";
}

int CmpOpArity(CmpOp op) {
  switch (op) {
    case CmpOp::kIn:
      return -1;
    case CmpOp::kExists:
      return 0;
    case CmpOp::kBetween:
      return 2;
    default:
      return 1;
  }
}

bool IsFilterOp(std::string_view op) {
  return std::find(std::begin(kFilterOps), std::end(kFilterOps), op) != std::end(kFilterOps);
}
bool FilterOpTakesList(std::string_view op) { return op == "in" || op == "not_in"; }
bool FilterOpTakesNoValue(std::string_view op) { return op == "is_set" || op == "is_not_set"; }

std::optional<int64_t> ParseDuration(std::string_view text) {
  if (text.size() < 2 || text.size() > 14) return std::nullopt;
  const char unit = static_cast<char>(text.back() | 0x20);  // lower-case a letter
  int64_t number = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    number = number * 10 + (c - '0');
  }
  for (const auto& u : kUnits) {
    if (u.letter != unit) continue;
    if (number <= 0 || number > kMaxDurationSeconds / u.seconds) return std::nullopt;
    return number * u.seconds;
  }
  return std::nullopt;
}

std::string FormatDuration(int64_t seconds) {
  for (const auto& u : kUnits) {
    if (seconds != 0 && seconds % u.seconds == 0) {
      return std::to_string(seconds / u.seconds) + u.letter;
    }
  }
  return std::to_string(seconds) + "s";
}

bool IsValidDate(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (d[i] < '0' || d[i] > '9') return false;
  }
  const int year = std::atoi(std::string(d.substr(0, 4)).c_str());
  const int month = (d[5] - '0') * 10 + (d[6] - '0');
  const int day = (d[8] - '0') * 10 + (d[9] - '0');
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const int max_day = kDays[month - 1] + (month == 2 && IsLeapYear(year) ? 1 : 0);
  return day <= max_day;
}

std::string CheckAttribute(const Node& n) {
  if (n.ns == Namespace::kRfm &&
      std::find(std::begin(kRfmFields), std::end(kRfmFields), n.name) == std::end(kRfmFields)) {
    return "unknown RFM field \"" + n.name + "\": expected one of segment, r, f, m, score";
  }
  if (n.ns != Namespace::kConsent) return "";
  if (n.op != CmpOp::kEq && n.op != CmpOp::kNe && n.op != CmpOp::kIn && n.op != CmpOp::kExists) {
    return "consent." + n.name + " takes =, !=, IN or EXISTS";
  }
  for (const Literal& l : n.values) {
    if (l.ago_seconds >= 0 || !l.value.is_boolean()) {
      return "consent." + n.name + " compares with true or false only";
    }
  }
  return "";
}

std::string CheckCount(double value) {
  if (!(value >= 0) || value > kMaxCount || std::floor(value) != value) {
    return "a count bound must be a whole number from 0 to 2^53";
  }
  return "";
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool IsBareName(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.back() == '.') return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '.') {
      if (name[i - 1] == '.') return false;
    } else if (!IsNameChar(name[i])) {
      return false;
    }
  }
  return true;
}

size_t FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    int len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      if (b == 0xE0) lo = 0xA0;  // no overlong forms
      if (b == 0xED) hi = 0x9F;  // no surrogates
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (int k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

Json BoundValueJson(double value) {
  if (std::floor(value) == value && std::fabs(value) <= kMaxCount) {
    return static_cast<int64_t>(value);
  }
  return value;
}

int TreeDepth(const Node& n) {
  int deepest = 0;
  for (const Node& c : n.children) deepest = std::max(deepest, TreeDepth(c));
  return deepest + 1;
}

int CountConditions(const Node& n) {
  if (n.kind != Node::kAnd && n.kind != Node::kOr && n.kind != Node::kNot) return 1;
  int count = 0;
  for (const Node& c : n.children) count += CountConditions(c);
  return count;
}

}  // namespace quanyu::audience::internal
