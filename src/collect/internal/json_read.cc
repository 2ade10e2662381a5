#include "collect/internal/json_read.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace quanyu::collect::internal {

using simdjson::dom::element;
using simdjson::dom::element_type;

const char* JsonTypeName(element_type t) {
  switch (t) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "a number";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "unknown";
}

bool IdStringOf(const element& v, std::string* out) {
  switch (v.type()) {
    case element_type::STRING:
      *out = std::string(v.get_string().value_unsafe());
      return true;
    case element_type::INT64:
      *out = std::to_string(v.get_int64().value_unsafe());
      return true;
    case element_type::UINT64:
      *out = std::to_string(v.get_uint64().value_unsafe());
      return true;
    case element_type::NULL_VALUE:
      out->clear();
      return true;
    default:
      return false;
  }
}

std::optional<double> ToNumber(const element& v) {
  if (v.is_number()) return v.get_double().value_unsafe();
  if (v.is_string()) {
    std::string s(v.get_string().value_unsafe());
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(d)) return d;
  }
  return std::nullopt;
}

}  // namespace quanyu::collect::internal
