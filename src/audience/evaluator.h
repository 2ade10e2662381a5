// AudienceEvaluator: a definition (definition.h) to the set of persons it
// selects, as a Roaring bitmap of one_ids (docs/audiences.md,
// "Evaluation").
//
// AND / OR / NOT are bitmap intersections, unions and differences from the
// universe (every person holding an identifier). Leaves come from:
//   trait.*      profile traits as folded now (AudienceData::ForEachTrait)
//   computed.*, rfm.*, predicted.*   values materialized by their jobs
//                (AudienceData::ForEachStoredAttribute)
//   consent.*    the latest "Consent Updated" choice (a store scan)
//   did / sequence   store scans over the condition's window
//   audience("x")    x's definition, evaluated in place (cycles rejected)
// Each leaf's bitmap is cached under its canonical form, the time window it
// resolved to (relative windows end at `now` rounded down to the minute) and
// the version of the data it reads (AudienceData::VersionOf): new data
// invalidates the leaves that read it and no others.
//
// Thread-safety: Evaluate may be called concurrently.
#pragma once

#include <roaring/roaring.hh>

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "audience/definition.h"
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
  // The definition of audience `name`; NotFound if there is none.
  virtual Result<Node> AudienceDefinition(std::string_view name) const = 0;
  // The version of the data a leaf condition reads: it changes whenever
  // something the leaf depends on changes (its events, traits, identities,
  // the computed values...), so a cached bitmap of the leaf stays valid
  // while it does not. The default, EvalContext::data_version, changes with
  // any new data.
  virtual uint64_t VersionOf(const Node& leaf, uint64_t data_version) const {
    return data_version;
  }
};

struct EvalContext {
  query::QueryContext query;      // store, one_ids, options (time zone, threads)
  const AudienceData* data = nullptr;
  int64_t now_us = 0;             // relative windows and ago(...) end here
  uint64_t data_version = 0;      // changes whenever events or identities change
};

class AudienceEvaluator {
 public:
  explicit AudienceEvaluator(size_t max_cached_bytes = size_t{256} << 20)
      : max_cached_bytes_(max_cached_bytes) {}

  // The persons `definition` selects. InvalidArgument for a bad filter or
  // window, an unknown or cyclic audience reference, an attribute that was
  // never computed; store errors as they come.
  Result<Roaring> Evaluate(const Node& definition, const EvalContext& ctx);

  // Every person holding an identifier now.
  Result<Roaring> Universe(const EvalContext& ctx);

  struct Stats {
    uint64_t hits = 0, misses = 0, entries = 0, bytes = 0;
  };
  Stats stats() const;

 private:
  Result<Roaring> Eval(const Node& n, const EvalContext& ctx, std::vector<std::string>* stack);
  Result<Roaring> Leaf(const Node& n, const EvalContext& ctx, std::vector<std::string>* stack);
  Result<Roaring> Compute(const Node& n, const EvalContext& ctx, const Roaring& universe);
  std::shared_ptr<const Roaring> Lookup(const std::string& key, uint64_t version);
  void Remember(const std::string& key, uint64_t version, const Roaring& bits);

  struct Entry {
    uint64_t version = 0;
    std::shared_ptr<const Roaring> bits;
    size_t bytes = 0;
    std::list<std::string>::iterator lru;
  };
  const size_t max_cached_bytes_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> cache_;
  std::list<std::string> lru_;  // most recent first
  size_t cached_bytes_ = 0;
  Stats stats_;
};

// A stable text key of a leaf condition (kind, fields, literals), used for
// caching; equal conditions give equal keys.
std::string CacheKeyOf(const Node& leaf);

}  // namespace quanyu::audience
