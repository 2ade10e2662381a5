// PartialProfile: what the events attributed to one identity key say about a
// person — traits (latest-wins by event time), group traits, first and last
// seen, and the sources and channels touched (ARCHITECTURE.md §3).
//
// Identity merges and splits happen after ingest and late events arrive out
// of order, so a person's profile is never updated in place: each identity
// key keeps its own partial, and the profile is the fold of the partials of
// the identifiers the person holds now, taken at read time. Hence the two
// promises this class keeps:
//   * Apply() is order-insensitive: any arrival order of the same events
//     gives the same partial (the same Encode() bytes) as event-time order.
//   * MergeFrom() is commutative and associative, and merging the partials of
//     any split of a set of events equals applying all of them to one.
// Both are exact while a trait has at most kMaxRelativeOpsPerTrait relative
// operations (set_once / increment / append) after its latest set, unset or
// profile delete. Beyond that the oldest adjacent pair of one kind is
// combined into one op (set_once keeps the first, increments add, appends
// concatenate), or else the oldest op is folded into a set. The value stays
// exact for the partial's own events in time order (up to floating-point
// rounding); an op that arrives later, or comes from a merge, and falls
// between combined or folded ops is applied approximately.
//
// Trait semantics, as a fold over operations in event-time order (ties broken
// by operation kind, then the value's JSON text, then the source name):
//   set       v = x                       (identify, group, profile_set)
//   set_once  v = x if v is unset          (profile_set_once)
//   increment v = (v if a number else 0) + d   (profile_increment)
//   append    v = (v if an array else []) + items (profile_append)
//   unset     v = unset                    (profile_unset: the object's keys)
//   delete    every person trait unset     (profile_delete; groups untouched)
// Identifiers and merge history belong to the identity graph, not here.
//
// Plain value type; not synchronized.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/event.h"
#include "common/result.h"

namespace quanyu::identity {
namespace internal {

// Implementation details of PartialProfile, here only because they are its
// members. Not for use elsewhere.

inline constexpr size_t kMaxRelativeOpsPerTrait = 256;

// Values are persisted, and their order breaks ties at equal event time.
enum class TraitOpKind : uint8_t {
  kDelete = 0,
  kUnset = 1,
  kSet = 2,
  kFoldedSet = 3,  // a set standing for relative ops folded at the cap
  kSetOnce = 4,
  kIncrement = 5,
  kAppend = 6,
};
inline bool IsAbsolute(TraitOpKind k) { return k <= TraitOpKind::kFoldedSet; }

// One trait operation. operator< is the total order of operations: event
// time, then kind, then operand bytes, then source bytes.
struct TraitOp {
  int64_t time_us = 0;
  TraitOpKind kind = TraitOpKind::kSet;
  std::string value;  // JSON text of the operand; empty for unset and delete
  std::string source;
  bool operator==(const TraitOp&) const = default;
  friend bool operator<(const TraitOp& a, const TraitOp& b) {
    return std::tie(a.time_us, a.kind, a.value, a.source) <
           std::tie(b.time_us, b.kind, b.value, b.source);
  }
};

// One trait: its latest absolute op (set / unset / folded set) unless a
// profile delete is later, and the relative ops after both, sorted. Never
// both empty.
struct TraitHistory {
  std::optional<TraitOp> absolute;
  std::vector<TraitOp> relative;
  bool operator==(const TraitHistory&) const = default;
};

// The traits of the person or of one group.
struct TraitSet {
  std::optional<TraitOp> deleted;  // latest profile delete (person traits only)
  std::map<std::string, TraitHistory, std::less<>> traits;

  // Adds a set / unset / relative op for `key`, dropping what it supersedes.
  void Insert(std::string_view key, TraitOp op);
  // Adds a profile delete, dropping every op before it.
  void Delete(const TraitOp& op);
  void MergeFrom(const TraitSet& other);
  bool operator==(const TraitSet&) const = default;
};

// Events from one source or channel.
struct Activity {
  uint64_t events = 0;
  int64_t first_seen_us = 0;
  int64_t last_seen_us = 0;
  void Add(const Activity& other);
  bool operator==(const Activity&) const = default;
};

}  // namespace internal

class PartialProfile {
 public:
  // Relative operations kept per trait before the oldest are combined or folded.
  static constexpr size_t kMaxRelativeOpsPerTrait = internal::kMaxRelativeOpsPerTrait;

  // Adds one event's effect: seen / source / channel bookkeeping for every
  // event, trait operations for identify, group and Sensors profile_*
  // records. Malformed trait JSON, a group without a groupId, a non-numeric
  // increment or an object appended is skipped and counted in skipped_ops();
  // never throws. A source or channel name that is not valid UTF-8 is
  // recorded as unknown (not in sources / channels, "" as a trait's source).
  void Apply(const Event& e);

  // Folds `other` into this partial (a person's profile is the fold of the
  // partials of all their identifiers). Commutative and associative.
  void MergeFrom(const PartialProfile& other);

  // True when no event has been applied or merged in.
  bool empty() const { return events_ == 0; }
  uint64_t events() const { return events_; }
  // Event-time bounds in microseconds; 0 when empty().
  int64_t first_seen_us() const { return first_seen_us_; }
  int64_t last_seen_us() const { return last_seen_us_; }
  // Operations skipped as malformed (see Apply).
  uint64_t skipped_ops() const { return skipped_ops_; }

  // Compact binary form for the state store; specified byte by byte in
  // docs/identity_format.md ("Profile partial"). Decode(Encode()) == *this.
  std::string Encode() const;
  // Returns Corruption if `bytes` is not a well-formed encoding.
  static Result<PartialProfile> Decode(std::string_view bytes);

  // Appends the resolved profile as one JSON object:
  //   {"traits":{k:value},"trait_meta":{k:{"source":s,"time":iso}},
  //    "groups":{groupId:{k:value}},"first_seen":iso|null,"last_seen":iso|null,
  //    "events":n,"sources":{name:{"events":n,"first_seen":iso,"last_seen":iso}},
  //    "channels":{...same...},"skipped_ops":n}
  // Times are ISO-8601 UTC with milliseconds; keys sorted bytewise.
  void AppendJson(std::string* out) const;

  // Person trait `key` (top level) as JSON text, as AppendJson would
  // print it; nullopt when unset.
  std::optional<std::string> TraitJson(std::string_view key) const;
  // TraitJson(key) of the fold of `parts`, folding only that trait (and
  // the profile deletes): what Fold-then-TraitJson answers, without
  // copying the rest of each partial.
  static std::optional<std::string> FoldedTraitJson(const std::vector<const PartialProfile*>& parts,
                                                    std::string_view key);
  // Whether folding this partial into another can change trait `key`: it
  // holds an operation on it, or a profile delete. A person's trait is the
  // fold of only the partials that affect it.
  bool AffectsTrait(std::string_view key) const;

  bool operator==(const PartialProfile&) const = default;

 private:
  uint64_t events_ = 0;
  int64_t first_seen_us_ = 0;
  int64_t last_seen_us_ = 0;
  uint64_t skipped_ops_ = 0;
  std::map<std::string, internal::Activity, std::less<>> sources_;
  std::map<std::string, internal::Activity, std::less<>> channels_;
  internal::TraitSet traits_;
  std::map<std::string, internal::TraitSet, std::less<>> groups_;
};

}  // namespace quanyu::identity
