// Per-person state of a computed trait while its events are scanned, one
// accumulator per kind (computed_traits.h). A scan thread owns one
// accumulator; the threads' accumulators are then merged. Every kind's
// state is built so that merging is order-independent: the result depends on
// the multiset of (person, time, value) rows only, never on their order or
// on how they were split between accumulators.
//
// Not synchronized: an accumulator belongs to one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audience/computed_traits.h"
#include "query/filter.h"

namespace quanyu::audience::internal {

// A property value as a trait sees it: its canonical JSON text (what ties
// and unique lists order by) and, for numbers, the number.
struct TraitValue {
  std::string text;  // "\"web\"", "12", "12.5", "true"
  bool is_number = false;
  double number = 0;
};

// The TraitValue of a field value read from a row: strings (arrays and
// objects arrive as their JSON text, a string), numbers (an integral number
// prints without a fraction: 12.0 and 12 are the same value) and booleans;
// nullopt for a missing field or null.
std::optional<TraitValue> TraitValueOf(const query::Value& v);

// A number as JSON: an integer when it is integral and exact in a double,
// else a double. REQUIRES: std::isfinite(d).
Json NumberJson(double d);

class TraitAccumulator {
 public:
  virtual ~TraitAccumulator() = default;
  // One matching event of person `one_id` (!= 0) at `time_us`; `value` is
  // the property's value (nullopt when the event lacks it, and always for
  // count).
  virtual void Add(uint32_t one_id, int64_t time_us, const std::optional<TraitValue>& value) = 0;
  // Moves everything `other` (an accumulator of the same kind) holds into
  // this one; `other` is left empty.
  virtual void MergeFrom(TraitAccumulator* other) = 0;
  // The value of every person that has one, sorted by one_id.
  virtual std::vector<PersonValue> Finish() = 0;
};

std::unique_ptr<TraitAccumulator> NewTraitAccumulator(ComputedTraitSpec::Kind kind);

}  // namespace quanyu::audience::internal
