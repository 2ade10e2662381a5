// Reading helpers shared by the wire-format parsers (Segment, Sensors) over
// simdjson's DOM. Stateless; thread-safe.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>

namespace quanyu::collect::internal {

// "an object", "a string", ... for error messages.
const char* JsonTypeName(simdjson::dom::element_type type);

// Numbers, or numeric strings ("199.00") as SDKs often send amounts, as
// doubles; nullopt for anything else or a non-finite value.
std::optional<double> ToNumber(const simdjson::dom::element& v);

// An identifier-like value as text: strings as they are, integers formatted
// (SDKs send numeric user ids), null as "". False (and *out untouched) for
// any other type.
bool IdStringOf(const simdjson::dom::element& v, std::string* out);

}  // namespace quanyu::collect::internal
