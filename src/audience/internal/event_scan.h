// Event-based conditions evaluated by scanning the store
// (docs/segment-language.md): did(...) counts and sums per person,
// sequence(...) ordered steps, and the latest consent choice per person.
// Scans run on QueryThreads(q) threads with identities resolved now.
//
// Each evaluation also returns the per-person state it folded the scan
// into (LeafState), so events that arrive later update the condition for
// their persons without another scan (docs/audiences.md, "Realtime
// membership").
//
// Thread-safety: the functions may be called concurrently; a LeafState is
// not synchronized (its owner, the evaluator's cache, locks it).
#pragma once

#include <roaring/roaring.hh>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "audience/definition.h"
#include "common/result.h"
#include "query/query.h"

namespace quanyu::audience::internal {

// What a condition keeps of its scan: enough to fold new events in.
class LeafState {
 public:
  virtual ~LeafState() = default;
  // Folds the rows of `b` (events added to the store after the scan's
  // snapshot, each row's one_id set) into the state. Rows outside the
  // window the condition resolved to are ignored.
  virtual void Fold(const store::ColumnBatch& b) = 0;
  // Persons merged: what the state holds of `absorbed` now belongs to
  // `survivor`. Harmless if the state's scan already saw the merge.
  virtual void Merge(uint32_t survivor, uint32_t absorbed) = 0;
  // Sets, in *bits, whether each person of `persons` satisfies the
  // condition now: after Fold and Merge, for every person they touched.
  virtual void Decide(const Roaring& persons, Roaring* bits) const = 0;
  // The columns Apply reads.
  virtual store::ColumnSet columns() const = 0;
  // Approximate memory held.
  virtual size_t bytes() const = 0;
};

// A leaf condition's persons and what keeps them current.
struct LeafResult {
  Roaring bits;
  std::unique_ptr<LeafState> state;  // did, sequence, consent
  uint64_t covered_lsn = 0;  // the scan's snapshot (store::ScanRequest::covered_lsn)
  // Trait and stored-attribute "!=" leaves (universe minus failing): the
  // persons whose value fails, so new persons can be added.
  Roaring failing;
};

// Persons of `universe` satisfying the kEvent node `n` as of `now_us`. A
// person without matching events has count 0 and sum 0, so "count <= 2"
// includes them. InvalidArgument for a bad filter, window or property.
Result<LeafResult> EvaluateEvent(const Node& n, const query::QueryContext& q, int64_t now_us,
                                 const Roaring& universe);

// Persons with events matching steps[0], steps[1], ... at non-decreasing
// times, each within max_gap_seconds of the previous (0 = no limit), all
// inside the window.
Result<LeafResult> EvaluateSequence(const Node& n, const query::QueryContext& q, int64_t now_us);

// Persons of `universe` satisfying the consent.CATEGORY attribute node `n`
// with their latest choice (ForEachConsent); a person without one
// satisfies only "!=".
Result<LeafResult> EvaluateConsent(const Node& n, const query::QueryContext& q, int64_t now_us,
                                   const Roaring& universe);

// The latest consent decision (as the ledger reads events) of each person for `category`
// (context.consent.categoryPreferences.CATEGORY, a boolean; events without
// it are ignored): fn(one_id, granted), in one_id order.
Status ForEachConsent(const query::QueryContext& q, std::string_view category,
                      const std::function<void(uint32_t, bool)>& fn);

}  // namespace quanyu::audience::internal
