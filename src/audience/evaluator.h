// AudienceEvaluator: a definition (definition.h) to the set of persons it
// selects, as a Roaring bitmap of one_ids (docs/audiences.md,
// "Evaluation").
//
// AND / OR / NOT are bitmap intersections, unions and differences from the
// universe (every person holding an identifier). Leaves come from:
//   trait.*      profile traits as folded now (AudienceData::ForEachTrait)
//   computed.*, rfm.*, predicted.*   values materialized by their jobs
//                (AudienceData::ForEachStoredAttribute)
//   consent.*    the latest consent decision, as the ledger reads it (a store scan)
//   did / sequence   store scans over the condition's window
//   audience("x")    x's definition, evaluated in place (cycles rejected)
// Each leaf's bitmap is cached under its canonical form, the minute a
// relative window resolved to (it ends at the end of the current minute)
// and EvalContext::data_version, which changes only with wholesale changes
// (merges, bulk loads, recomputed attributes). New events keep cached
// leaves current instead (Apply): a did / sequence / consent leaf folds
// them into the per-person state its scan left, a trait leaf re-reads the
// traits of the persons whose traits they may change.
//
// Thread-safety: every method may be called concurrently.
#pragma once

#include <roaring/roaring.hh>

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "audience/definition.h"
#include "audience/internal/event_scan.h"
#include "common/event.h"
#include "common/result.h"
#include "query/query.h"

namespace quanyu::audience {

// What an evaluation reads besides the store; the engine implements it.
class AudienceData {
 public:
  virtual ~AudienceData() = default;
  using ValueFn = std::function<void(uint32_t one_id, const Json& value)>;
  // fn for every person whose person trait `key` (top level) is set.
  virtual Status ForEachTrait(std::string_view key, const ValueFn& fn) const = 0;
  // fn for every person with a value of computed.NAME, rfm.FIELD or
  // predicted.NAME; InvalidArgument when no such attribute has been
  // computed ("predicted.clv: not computed yet ...").
  virtual Status ForEachStoredAttribute(Namespace ns, std::string_view name,
                                        const ValueFn& fn) const = 0;
  // The value of person trait `key` (top level) of one person, if set.
  virtual std::optional<Json> TraitOf(uint32_t one_id, std::string_view key) const = 0;
  // The definition of audience `name`; NotFound if there is none.
  virtual Result<Node> AudienceDefinition(std::string_view name) const = 0;
};

struct EvalContext {
  query::QueryContext query;      // store, one_ids, options (time zone, threads)
  const AudienceData* data = nullptr;
  int64_t now_us = 0;             // relative windows and ago(...) end here
  // Changes whenever cached leaves can no longer be brought up to date by
  // Apply: persons merged or split, a bulk load, attributes recomputed.
  uint64_t data_version = 0;
};

class AudienceEvaluator {
 public:
  explicit AudienceEvaluator(size_t max_cached_bytes = size_t{1} << 30)
      : max_cached_bytes_(max_cached_bytes) {}

  // The persons `definition` selects — only those of `*within`, if given
  // (then every leaf is intersected with it first: cheap for a few persons
  // once the leaves are cached). InvalidArgument for a bad filter or
  // window, an unknown or cyclic audience reference, an attribute that was
  // never computed; store errors as they come.
  Result<Roaring> Evaluate(const Node& definition, const EvalContext& ctx,
                           const Roaring* within = nullptr);

  // Brings every cached leaf up to date with `events`, which the store
  // added at `lsn` (after every LSN applied before), and
  // returns their persons (Event::identity_key resolved through
  // ctx.query.one_ids). A leaf whose scan already saw the events is left
  // as it is; leaves of another data_version or minute are dropped. Leaf
  // computations wait while this runs, and it waits for them.
  // `merges` (survivor, absorbed), in order, are the persons merged since
  // the previous call (the batch's identifiers may have caused them):
  // cached leaves move what they hold of each absorbed person to its
  // survivor, and the absorbed one_id leaves every leaf and the universe.
  // Both are among the persons returned.
  using MergeList = std::vector<std::pair<uint32_t, uint32_t>>;
  Result<Roaring> Apply(const std::vector<Event>& events, uint64_t lsn, const MergeList& merges,
                        const EvalContext& ctx);

  // Every person holding an identifier now.
  Result<Roaring> Universe(const EvalContext& ctx);

  struct Stats {
    uint64_t hits = 0, misses = 0, entries = 0, bytes = 0;
  };
  Stats stats() const;

 private:
  struct Scope {
    const EvalContext& ctx;
    const Roaring* within;
    std::vector<std::string> stack;  // audience references being expanded
  };
  struct Entry {
    uint64_t version = 0;
    int64_t minute = 0;  // relative leaves: the minute they resolved to
    std::optional<Node> leaf;  // nullopt: the universe
    Roaring bits;
    std::unique_ptr<internal::LeafState> state;  // did / sequence / consent leaves
    uint64_t covered_lsn = 0;                      // what the state has seen
    Roaring failing;                               // "!=" attribute leaves (LeafResult)
    size_t bytes = 0;
    std::list<std::string>::iterator lru;
  };
  Result<Roaring> Eval(const Node& n, Scope* scope);
  Result<Roaring> Leaf(const Node& n, Scope* scope);
  Result<Roaring> UniverseLocked(const EvalContext& ctx, const Roaring* within);
  Result<internal::LeafResult> Compute(const Node& n, const EvalContext& ctx, const Roaring& universe);
  // The cached bits of `key` (intersected with *within, if given), if
  // cached at `version`.
  std::optional<Roaring> Lookup(const std::string& key, uint64_t version, const Roaring* within);
  void Remember(const std::string& key, Entry entry);
  // Updates a cached attribute leaf for the persons of a batch: re-reads
  // the trait of those whose traits may have changed.
  void ApplyAttribute(const Node& n, const EvalContext& ctx, const Roaring& persons,
                      const Roaring& traits_changed, Entry* e);
  static size_t BytesOf(const std::string& key, const Entry& e);

  const size_t max_cached_bytes_;
  // Shared by leaf computations, exclusive for Apply: a leaf computed from
  // a store snapshot is remembered with the LSN that snapshot covers
  // before any later batch is applied.
  std::shared_mutex apply_mu_;
  mutable std::mutex mu_;  // the cache
  std::unordered_map<std::string, Entry> cache_;
  std::list<std::string> lru_;  // most recent first
  size_t cached_bytes_ = 0;
  Stats stats_;
};

// A stable text key of a leaf condition (kind, fields, literals), used for
// caching; equal conditions give equal keys.
std::string CacheKeyOf(const Node& leaf);

}  // namespace quanyu::audience
