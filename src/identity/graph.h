// IdentityGraph: One-ID, the resolution of identifiers into persons
// (ARCHITECTURE.md §4; rules and examples in docs/identity.md).
//
// Each event's identifiers are interned to dense keys and linked under the
// rules of identity/rules.h. A person is named by a stable `one_id`: when two
// persons merge, the older one (the smaller one_id) survives and the other
// one_id becomes an alias that still resolves. Every event that changed the
// graph — linked a new identifier, merged persons, or was refused a link — is
// kept as an edge with its messageId, event time and outcome (merges with the
// identifier that allowed them, conflicts with the rule that refused them).
//
// Order-independence: the graph is, by definition, what applying the edges
// in event-time order gives (same-time edges in arrival order). An event that
// arrives in order is applied incrementally; a late one that changes
// something rebuilds the connected part of the graph it touches by replaying
// that part's edges in time order. Unbind and split remove a link and
// rebuild the same way. Events whose identifiers already all belong to one
// person change nothing and are not kept.
//
// The event's key is its highest-priority identifier, which linking always
// keeps; a store scan resolves it to a one_id through one_ids() — one array
// read per event.
//
// Deletion: ErasePerson forgets a person's identifiers and edges in place
// (keys and one_ids are never reused); see its comment.
//
// Persistence: changes are marked dirty and written by WriteDirty() into a
// StateDb batch; Load() reads them back. The byte format is in
// docs/identity_format.md.
//
// Thread-safety: all methods are safe to call concurrently; mutations are
// serialized by an internal lock, and one_ids() may be read without it.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/dense_array.h"
#include "common/event.h"
#include "common/kv.h"
#include "common/result.h"
#include "identity/internal/link.h"
#include "identity/interner.h"
#include "identity/rules.h"

namespace quanyu::identity {

using OneId = uint32_t;  // 1-based; 0 = none

// One edge as the API shows it.
struct LinkRecord {
  uint32_t id = 0;
  std::string kind;  // "link", "unbind", "split"
  int64_t time_us = 0;
  std::string message_id;
  std::vector<std::string> identifiers;  // as sent, highest priority first
  bool removed = false;                  // undone by a split
  struct Merge {
    OneId survivor = 0;
    OneId absorbed = 0;  // 0 when a rebuild merged two parts that had no one_id of their own
    std::string via;     // the identifier that joined them
  };
  std::vector<Merge> merges;
  struct Conflict {
    std::string dropped;  // the identifier left out of the link
    std::string reason;   // "limit", "max_merges", "max_identifiers"
    std::string rule;     // e.g. "user_id limit 1"
  };
  std::vector<Conflict> conflicts;
};

struct PersonIdentity {
  OneId one_id = 0;
  std::vector<std::string> identifiers;
  uint32_t merges = 0;
  std::vector<LinkRecord> links;  // in event-time order
};

struct GraphStats {
  uint64_t identifiers = 0;
  uint64_t persons = 0;  // live
  uint64_t aliases = 0;
  uint64_t edges = 0;
  uint64_t events = 0;          // events applied
  uint64_t links = 0;           // identifier occurrences resolved
  uint64_t merges = 0;          // merges made incrementally
  uint64_t conflicts = 0;       // links refused incrementally
  uint64_t rebuilds = 0;        // late events, unbinds and splits that rebuilt part of the graph
  uint64_t late_fallbacks = 0;  // late events applied in arrival order (part too large)
  uint64_t failed_corrections = 0;  // unbind / split events naming nothing known
  uint64_t memory_bytes = 0;
};

class IdentityGraph {
 public:
  explicit IdentityGraph(IdentityRules rules);
  ~IdentityGraph();
  IdentityGraph(const IdentityGraph&) = delete;
  IdentityGraph& operator=(const IdentityGraph&) = delete;

  // Resolves each event and sets its identity_key. Unbind events
  // (track_id_unbind) unbind their identifiers; identity_split events split
  // (see Split). Events without identifiers get key 0.
  void Apply(std::vector<Event>* events);
  // The key Apply gave (or would give) `e`, without changing the graph; 0 if
  // an identifier of the event's key was never seen.
  IdentKey KeyOf(const Event& e) const;

  // Removes `id` from every link made by events up to `time_us` and rebuilds
  // that part of the graph: the identifier becomes a person of its own.
  // Events up to `time_us` that arrive later do not link it either (so the
  // result does not depend on delivery order); events after it may link it
  // again. NotFound if unknown.
  Status Unbind(const Identifier& id, int64_t time_us, const std::string& message_id);
  // Undoes the links made by the event `undo_message_id` in person `one_id`
  // and rebuilds. NotFound if the person or such an edge in it is unknown.
  Status Split(OneId one_id, const std::string& undo_message_id, int64_t time_us,
               const std::string& message_id);

  // Deletion (a data-subject request, docs/privacy.md): forgets person
  // `one_id` (a live one_id, or an alias resolving to one). Every identifier
  // key of the person is erased from the interner: its value bytes are
  // overwritten in memory and dropped from the lookup table, so Lookup/Find no
  // longer find it and KeyToString answers "" for it; one_ids() maps the key
  // to 0. Every edge in the person's edge list loses its message_id, ids,
  // merges and conflicts and is marked dead. The person keeps its one_id
  // slot (ids are never reused), with no identifiers and no edges; Resolve of
  // it or of an alias still answers it, Describe answers nullopt, KeysOf is
  // empty. Counts as a remap (MergesSince answers nullopt across it). The
  // changes are marked dirty, so the next WriteDirty writes records that hold
  // none of the erased values or message ids, and Load gives back the same
  // erased state. NotFound if the person is unknown or already erased.
  //
  // An edge may also name identifiers of other persons (a link that was
  // refused by a rule, or one a split undid). Such a shared edge loses its
  // message_id, the erased keys, and the merges and conflicts that name an
  // erased key (all of them if the event's key was erased); it keeps the
  // other persons' keys and its dead flag, so a later rebuild of their part
  // replays it as if the event had carried only their identifiers. Other
  // persons' identifiers, one_ids and edge lists are not changed.
  //
  // An event that carries an erased identifier again interns a new key (a
  // new person); later rebuilds never bring the erased keys back.
  // Cost: O(identifiers + edges of the person + all one_ids) — the aliases
  // are found by a scan of the one_ids.
  struct ErasedPerson {
    OneId one_id = 0;
    std::vector<IdentKey> keys;  // the erased identifier keys
    std::vector<OneId> aliases;  // one_ids that were merged into it
  };
  Result<ErasedPerson> ErasePerson(OneId one_id);
  // ErasePerson for many persons under one lock, with one pass to find all
  // their aliases (ErasePerson alone scans every one_id for each person).
  // Unknown and already erased persons are skipped.
  std::vector<ErasedPerson> ErasePersons(const std::vector<OneId>& one_ids);
  // Calls fn(key, "ns:value" or "ns:scope:value") for every identifier not
  // erased, in key order, under the graph's shared lock (fn must not call
  // back into the graph). Used to find a deletion's identifiers by keyed hash
  // after a restart.
  void ForEachIdentifier(const std::function<void(IdentKey, const std::string&)>& fn) const;

  // The live person an id or alias resolves to; 0 if never allocated.
  OneId Resolve(OneId one_id) const;
  // The person holding an identifier (normalized); 0 if unknown.
  OneId Lookup(const Identifier& id) const;
  // Keys of the identifiers of a live person (empty if none).
  std::vector<IdentKey> KeysOf(OneId one_id) const;
  std::optional<PersonIdentity> Describe(OneId one_id) const;
  std::string KeyToString(IdentKey key) const;

  // key → one_id, for store scans (lock-free reads).
  const DenseArray<uint32_t>& one_ids() const { return person_of_; }

  GraphStats Stats() const;
  // Counts merges and rebuilds: every change that moves existing identity
  // keys to another one_id. Unchanged means every key still resolves as
  // before (new keys aside), so results computed from one_ids still hold.
  uint64_t remaps() const { return remaps_.load(std::memory_order_acquire); }
  // The remaps after the first `since`, in order, if each was a plain merge
  // (absorbed's keys moved to survivor) and all are still remembered (the
  // last kRememberedRemaps); nullopt if any was a rebuild (unbind, split,
  // a merge past a limit) or is forgotten. *upto receives the count of
  // remaps the answer covers.
  struct MergeStep {
    OneId survivor = 0, absorbed = 0;
  };
  static constexpr size_t kRememberedRemaps = 65536;
  std::optional<std::vector<MergeStep>> MergesSince(uint64_t since, uint64_t* upto) const;

  // Adds every change since the last call to `batch` and forgets them.
  // Lookups may run meanwhile. REQUIRES: no concurrent Apply, Unbind or
  // Split (the engine holds its identity lock around both).
  void WriteDirty(KvWriteBatch* batch);
  // Reads a graph written by WriteDirty. Corruption on bad records.
  static Result<std::unique_ptr<IdentityGraph>> Load(const KvReader& db, IdentityRules rules);

 private:
  friend class GraphView;
  friend class Rebuilder;

  enum class EdgeKind : uint8_t { kLink = 0, kUnbind = 1, kSplit = 2 };
  struct Edge {
    int64_t time_us = 0;
    std::string message_id;
    std::vector<IdentKey> ids;  // highest priority first
    EdgeKind kind = EdgeKind::kLink;
    bool dead = false;  // removed by a split
    std::vector<internal::LinkMerge> merges;
    std::vector<internal::LinkConflict> conflicts;
  };
  struct Person {
    uint32_t head = 0, tail = 0, count = 0;  // identifiers (list through next_)
    uint32_t merged_into = 0;                // alias of this person; 0 = live
    uint32_t merges = 0;
    uint32_t edge_head = 0, edge_tail = 0;  // list through edge_nodes_
    int64_t last_edge_us = INT64_MIN;       // newest edge time
  };
  struct EdgeNode {
    uint32_t edge = 0, next = 0;
  };

  // REQUIRES for the *Locked and mutating helpers below: mu_ held exclusively.
  IdentKey ApplyOne(const Event& e);
  Status UnbindLocked(const Identifier& id, int64_t time_us, const std::string& message_id);
  Status SplitLocked(OneId one_id, const std::string& undo_message_id, int64_t time_us,
                     const std::string& message_id);
  // An identity_split event: properties_json {"one_id": N, "message_id": "..."}.
  Status SplitEvent(const Event& e);
  // Interned keys of e's identifiers, distinct, highest priority first.
  void InternIds(const Event& e, std::vector<IdentKey>* ids);
  uint32_t PriorityOf(IdentKey k) const;
  uint32_t NamespaceIdFor(const Identifier& id);
  uint32_t NewEdge(EdgeKind kind, int64_t time_us, const std::string& message_id,
                   std::vector<IdentKey> ids);
  OneId NewPerson();
  void AddIdent(OneId p, IdentKey k);
  void Merge(OneId survivor, OneId absorbed);
  void AttachEdge(OneId p, uint32_t edge);
  // Attaches `edge` to the persons of all its identifiers.
  void AttachEdgeToHolders(uint32_t edge);
  OneId ResolveLocked(OneId one_id) const;
  // Removes the erased keys `erased` (sorted) from a shared edge (see
  // ErasePerson), or clears it when it names no other key.
  ErasedPerson EraseLocked(OneId p);  // ErasePersons' work for one live person
  void ScrubEdge(uint32_t edge, const std::vector<IdentKey>& erased);
  // Rebuilds the part of the graph connected to `seeds` (and to `extra_edge`
  // if non-zero) by replaying its edges in time order. False (and nothing
  // changed) if that part is larger than `max_identifiers`.
  // `detached` (an identifier an unbind just took off) never keeps a one_id.
  bool Rebuild(const std::vector<OneId>& seeds, uint32_t extra_edge, size_t max_identifiers,
               IdentKey detached = 0);
  template <class F>
  void ForEachEdgeOf(OneId p, F f) const {
    for (uint32_t n = persons_[p].edge_head; n != 0; n = edge_nodes_[n].next) {
      f(edge_nodes_[n].edge);
    }
  }
  LinkRecord RecordOf(uint32_t edge_id) const;
  void MarkPerson(OneId p);
  void MarkEdge(uint32_t e);

  const IdentityRules rules_;
  mutable std::shared_mutex mu_;
  IdentifierInterner interner_;
  std::vector<uint32_t> ns_limit_, ns_priority_;  // by namespace id
  DenseArray<uint32_t> person_of_;                // key → live one_id
  std::atomic<uint64_t> remaps_{0};               // see remaps()
  // The last kRememberedRemaps remaps (survivor 0: a rebuild), the newest
  // being number recent_end_; guarded by recent_mu_.
  mutable std::mutex recent_mu_;
  std::deque<MergeStep> recent_;
  uint64_t recent_end_ = 0;
  void RememberRemap(MergeStep step);
  std::vector<uint32_t> next_;        // key → next key of the same person
  std::vector<uint32_t> birth_;       // key → the person it first joined
  std::vector<Person> persons_;       // by one_id; [0] unused
  std::vector<Edge> edges_;           // [0] unused
  std::vector<EdgeNode> edge_nodes_;  // [0] unused
  GraphStats stats_;

  // Dirty since the last WriteDirty.
  size_t written_keys_ = 0;
  std::vector<IdentKey> erased_dirty_;  // erased keys up to written_keys_
  std::vector<uint32_t> dirty_persons_, dirty_edges_;
  // Identifier → the latest unbind time: events up to then do not link it.
  std::unordered_map<IdentKey, int64_t> unbound_until_;
  bool unbound_dirty_ = false;
  std::vector<bool> person_dirty_, edge_dirty_;
};

}  // namespace quanyu::identity
