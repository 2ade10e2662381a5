// Computed traits (docs/computed-traits.md): a per-person value derived
// from the person's events — an event counter, a sum / average / minimum /
// maximum of a property, the most frequent, first or last value of a
// property, or the list or number of its distinct values — over a time
// window and with `where` filters. The segment language reads them as
// computed.NAME; the engine materializes them into profiles.
//
// A ComputedTraitSpec is plain data. ComputeTrait scans the store on the
// query threads of the context; its answer does not depend on how events are
// split across segments, the buffer or threads.
//
// Thread-safety: every function here is stateless and may be called
// concurrently (a QueryContext is read-only).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "audience/definition.h"
#include "common/result.h"
#include "query/params.h"
#include "query/query.h"

namespace quanyu::audience {

struct ComputedTraitSpec {
  enum class Kind {
    kCount,         // matching events: integer
    kSum,           // of the numeric values of `property`: number
    kAvg,           // ...
    kMin,           // ...
    kMax,           // ...
    kMostFrequent,  // the value seen on most events (ties: smallest JSON text)
    kFirst,         // the value of the earliest event (ties: smallest JSON text)
    kLast,          // the value of the latest event (ties: largest JSON text)
    kUniqueList,    // the distinct values, sorted by JSON text, at most 100
    kUniqueCount,   // the number of distinct values: integer
  };

  std::string name;  // [a-z0-9_]{1,64}; read as computed.NAME
  Kind kind = Kind::kCount;
  std::string event;        // event name; "" = every event
  std::vector<Json> where;  // query filter objects (query::ParseWhere)
  std::string property;     // a query field (query/fields.h); "" for kCount only
  Window window;            // resolved with ResolveWindow (window.h)

  bool operator==(const ComputedTraitSpec&) const = default;
};

// The most values a kUniqueList keeps: the first ones in JSON-text order.
inline constexpr size_t kUniqueListLimit = 100;

// "count", "sum", ... "unique_count"; the JSON form's "kind".
std::string_view ComputedTraitKindName(ComputedTraitSpec::Kind kind);

// The JSON form:
//   {"name": "orders_90d", "kind": "count", "event": "Order Completed",
//    "where": [...], "property": "revenue", "within": "90d"}
// with "between": ["2026-01-01", "2026-03-31"] instead of "within" for a
// date window, and neither for all time. "event" may be absent, "" or
// "$any" (every event). InvalidArgument naming the field for anything
// malformed: a bad name or kind, a missing property (or one given to
// count), a non-numeric built-in field for sum/avg/min/max, a malformed
// filter, duration or date, both windows at once, an unknown key.
Result<ComputedTraitSpec> ParseComputedTrait(const Json& j);

// The JSON form of `s`; ParseComputedTrait(ComputedTraitToJson(s)) == s for
// any spec ParseComputedTrait produced. Empty fields are left out.
Json ComputedTraitToJson(const ComputedTraitSpec& s);

// One person's value.
struct PersonValue {
  uint32_t one_id = 0;
  Json value;
  bool operator==(const PersonValue&) const = default;
};

// The trait's value for every person with at least one matching event (and,
// for every kind but count, at least one usable value of the property) in
// the spec's window as of `now_us`, sorted by one_id. Persons are one_ids as
// ctx.one_ids resolves them now; events without a person are skipped.
// InvalidArgument for an event or property the catalog does not know (named
// with its field), or a bad window; IOError / Corruption from the store.
Result<std::vector<PersonValue>> ComputeTrait(const query::QueryContext& ctx,
                                              const ComputedTraitSpec& spec, int64_t now_us,
                                              const query::TimeZone& tz);

}  // namespace quanyu::audience
