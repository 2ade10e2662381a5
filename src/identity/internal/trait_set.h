// Folding a trait's operations into its value, shared by the PartialProfile
// sources: identity/profile.cc renders values as JSON and validates event
// operands, identity/internal/profile_codec.cc validates decoded operands.
// TraitOp, TraitHistory and TraitSet themselves are declared in
// identity/profile.h; their logic lives in identity/internal/trait_set.cc.
//
// Not for use outside src/identity. The JSON parser is per thread; a
// TraitValue points into the history it was resolved from.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "identity/profile.h"

namespace quanyu::identity::internal {

// The calling thread's parser. Parsing invalidates elements from the
// previous parse, so finish with one document before parsing the next.
simdjson::dom::parser& JsonParser();

// Whether `v` may be the operand of an op of `kind` (unset and delete ignore
// theirs).
bool ValidOperand(TraitOpKind kind, const simdjson::dom::element& v);

// A trait's value while its ops are folded in order.
struct TraitValue {
  enum class Kind { kUnset, kJson, kInt, kDouble, kArray };
  Kind kind = Kind::kUnset;
  std::string json;                // kJson: the value as given
  int64_t i = 0;                   // kInt
  double d = 0;                    // kDouble
  std::vector<std::string> items;  // kArray: JSON text of each element
  const TraitOp* decided_by = nullptr;
};

// Folds the absolute op and the first `n` relative ops of `h`. The result
// points into `h`.
TraitValue Resolve(const TraitHistory& h, size_t n);

// Appends `v` as JSON text ("null" when unset).
void AppendValueJson(const TraitValue& v, std::string* out);

}  // namespace quanyu::identity::internal
