// Event-based conditions evaluated by scanning the store
// (docs/segment-language.md): did(...) counts and sums per person,
// sequence(...) ordered steps, and the latest consent choice per person.
// Scans run on QueryThreads(q) threads with identities resolved now.
//
// Thread-safety: the functions may be called concurrently.
#pragma once

#include <roaring/roaring.hh>

#include <cstdint>
#include <functional>
#include <string_view>

#include "audience/definition.h"
#include "common/result.h"
#include "query/query.h"

namespace quanyu::audience::internal {

// Persons of `universe` satisfying the kEvent node `n` as of `now_us`. A
// person without matching events has count 0 and sum 0, so "count <= 2"
// includes them. InvalidArgument for a bad filter, window or property.
Result<Roaring> EvaluateEvent(const Node& n, const query::QueryContext& q, int64_t now_us,
                              const Roaring& universe);

// Persons with events matching steps[0], steps[1], ... at non-decreasing
// times, each within max_gap_seconds of the previous (0 = no limit), all
// inside the window.
Result<Roaring> EvaluateSequence(const Node& n, const query::QueryContext& q, int64_t now_us);

// The latest "Consent Updated" choice of each person for `category`
// (context.consent.categoryPreferences.CATEGORY, a boolean; events without
// it are ignored): fn(one_id, granted), in one_id order.
Status ForEachConsent(const query::QueryContext& q, std::string_view category,
                      const std::function<void(uint32_t, bool)>& fn);

}  // namespace quanyu::audience::internal
