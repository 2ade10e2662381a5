#include "audience/internal/attribute_compare.h"

#include <charconv>
#include <optional>
#include <string>

#include "common/time_util.h"

namespace quanyu::audience::internal {
namespace {

std::optional<double> AsNumber(const Json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    double d = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) return d;
  }
  return std::nullopt;
}

// A value read as a point in time, in microseconds.
std::optional<int64_t> AsTimeUs(const Json& v) {
  if (v.is_number()) {
    const double x = v.get<double>();
    return static_cast<int64_t>(x > 1e11 ? x * 1000 : x * 1e6);
  }
  if (!v.is_string()) return std::nullopt;
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() == 10) {  // YYYY-MM-DD: midnight UTC
    auto t = ParseTimestamp(s + "T00:00:00Z");
    if (t.ok()) return *t;
  }
  auto t = ParseTimestamp(s);
  if (t.ok()) return *t;
  return std::nullopt;
}

// -1, 0, 1, or nullopt when the two cannot be ordered.
std::optional<int> Order(const Json& value, const Literal& lit, int64_t now_us) {
  if (lit.ago_seconds >= 0) {
    auto t = AsTimeUs(value);
    if (!t) return std::nullopt;
    const int64_t at = now_us - lit.ago_seconds * 1000000;
    return *t < at ? -1 : *t > at ? 1 : 0;
  }
  const Json& l = lit.value;
  if (l.is_number()) {
    auto a = AsNumber(value);
    if (!a) return std::nullopt;
    const double b = l.get<double>();
    return *a < b ? -1 : *a > b ? 1 : 0;
  }
  if (l.is_string() && value.is_string()) {
    const int c = value.get_ref<const std::string&>().compare(l.get_ref<const std::string&>());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  return std::nullopt;
}

bool Equal(const Json& value, const Literal& lit, int64_t now_us) {
  if (lit.ago_seconds < 0 && (lit.value.is_boolean() || lit.value.is_null())) {
    return value == lit.value;
  }
  auto o = Order(value, lit, now_us);
  return o && *o == 0;
}

bool Contains(const Json& value, const Literal& lit, int64_t now_us) {
  if (value.is_array()) {
    for (const Json& item : value) {
      if (Equal(item, lit, now_us)) return true;
    }
    return false;
  }
  if (value.is_string() && lit.value.is_string()) {
    return value.get_ref<const std::string&>().find(lit.value.get_ref<const std::string&>()) !=
           std::string::npos;
  }
  return false;
}

}  // namespace

Json ParseTraitValue(std::string_view text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"' &&
      text.find('\\') == std::string_view::npos &&
      text.substr(1, text.size() - 2).find('"') == std::string_view::npos) {
    return Json(std::string(text.substr(1, text.size() - 2)));
  }
  if (!text.empty() && (text[0] == '-' || (text[0] >= '0' && text[0] <= '9'))) {
    int64_t i = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
    if (ec == std::errc() && p == text.data() + text.size()) return Json(i);
  }
  return Json::parse(text, nullptr, false);
}

bool Satisfies(const Json& value, CmpOp op, const std::vector<Literal>& literals, int64_t now_us) {
  if (value.is_null()) return op == CmpOp::kNe;
  if (op == CmpOp::kExists) return true;
  if (literals.empty()) return false;
  const Literal& first = literals[0];
  switch (op) {
    case CmpOp::kEq:
      return Equal(value, first, now_us);
    case CmpOp::kNe:
      return !Equal(value, first, now_us);
    case CmpOp::kIn:
      for (const Literal& l : literals) {
        if (Equal(value, l, now_us)) return true;
      }
      return false;
    case CmpOp::kContains:
      return Contains(value, first, now_us);
    case CmpOp::kBetween: {
      if (literals.size() < 2) return false;
      auto lo = Order(value, literals[0], now_us), hi = Order(value, literals[1], now_us);
      return lo && hi && *lo >= 0 && *hi <= 0;
    }
    case CmpOp::kLt:
    case CmpOp::kLe:
    case CmpOp::kGt:
    case CmpOp::kGe: {
      auto o = Order(value, first, now_us);
      if (!o) return false;
      if (op == CmpOp::kLt) return *o < 0;
      if (op == CmpOp::kLe) return *o <= 0;
      if (op == CmpOp::kGt) return *o > 0;
      return *o >= 0;
    }
    case CmpOp::kExists:
      return true;
  }
  return false;
}

}  // namespace quanyu::audience::internal
