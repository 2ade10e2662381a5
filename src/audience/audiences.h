// Audiences: the audience stage as the engine sees it (docs/audiences.md) —
// saved audience definitions, tags, computed traits and RFM scores, their
// evaluation (evaluator.h), realtime membership with entered / exited
// records and per-person history, and member export.
//
// Persisted in the state DB (docs/audiences.md, "Storage"):
//   au/d/NAME               audience record (JSON)
//   au/m/KEY                last membership (portable Roaring bitmap); KEY is
//                           the audience name or "tag:CATEGORY/TAG"
//   au/c/SEQ                membership change feed (SEQ big-endian u64; JSON)
//   au/seq                  the last SEQ handed out (u64 BE), written when
//                           ErasePersons deletes changes
//   au/h/ONE_ID SEQ         the same change under the person (u32 + u64 BE)
//   au/t/CATEGORY\0TAG      tag record (JSON)
//   au/ct/NAME              computed trait spec (JSON)
//   au/cv/NAME/CHUNK        its values for up to 65,536 persons per chunk (CHUNK
//                           u32 BE): repeated (u32 BE one_id, u32 BE len, JSON)
//   au/rfm                  the last RFM run's options (JSON)
//   au/rfmv/CHUNK           its scores, as au/cv (JSON {r, f, m, score, ...})
//   au/pt/NAME              a predicted trait: the model run that wrote it (JSON)
//   au/pv/NAME/CHUNK        its values, as au/cv
//
// Threads: the realtime thread (NoteEvents) and the caller's of Refresh.
// Thread-safety: every public method may be called concurrently.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <roaring/roaring.hh>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "audience/computed_traits.h"
#include "audience/definition.h"
#include "audience/evaluator.h"
#include "audience/rfm.h"
#include "common/clock.h"
#include "common/event.h"
#include "identity/graph.h"
#include "query/query.h"
#include "store/event_store.h"
#include "store/profile_store.h"
#include "store/state_db.h"

namespace quanyu::audience {

struct AudienceRecord {
  std::string name;  // [A-Za-z0-9_\-.]{1,128}
  std::string description;
  Node definition;
  int64_t created_us = 0, updated_us = 0;
};

struct MembershipChange {
  uint64_t seq = 0;
  uint32_t one_id = 0;
  std::string audience;  // audience name, or "tag:CATEGORY/TAG"
  bool entered = false;  // audience_entered, else audience_exited
  int64_t time_us = 0;
};

struct TagRecord {
  std::string category, name, description;
  bool is_list = false;                  // an uploaded list, else a rule
  Node rule;                             // !is_list
  std::vector<std::string> identifiers;  // is_list: "ns:value" as uploaded
};

class Audiences final : public AudienceData {
 public:
  struct Sources {
    const store::EventStore* store = nullptr;
    const identity::IdentityGraph* graph = nullptr;
    const store::ProfileStore* profiles = nullptr;
    store::StateDb* state = nullptr;
    const Clock* clock = nullptr;
    query::QueryOptions options;
  };
  // Loads every record; Corruption on a bad one.
  static Result<std::unique_ptr<Audiences>> Open(Sources sources);

  // ---- Audiences ------------------------------------------------------------
  // InvalidArgument for a bad name or a definition referring to an unknown
  // audience or to itself; AlreadyExists / NotFound.
  Result<AudienceRecord> Create(AudienceRecord record);
  Result<AudienceRecord> Update(AudienceRecord record);
  Status Delete(const std::string& name);
  Result<AudienceRecord> Get(const std::string& name) const;
  std::vector<AudienceRecord> List() const;

  // The persons a definition selects now, with every event accepted before
  // the call (it waits for the realtime thread to catch up).
  Result<Roaring> Evaluate(const Node& definition);
  // The members of a saved audience now.
  Result<Roaring> Members(const std::string& name);
  AudienceEvaluator::Stats cache_stats() const { return evaluator_.stats(); }

  ~Audiences() override;
  // Stops the realtime thread after it has handled every batch noted so
  // far. Idempotent; the engine calls it before closing the store.
  void Close();

  // ---- Realtime membership ----------------------------------------------------
  // Called by the engine once a batch is in the store (`lsn` its log
  // position; one_ids resolved), on the thread that applies the log. Cheap:
  // the batch is queued for the realtime thread, which brings the cached
  // conditions up to date with it (and with the persons it merged) and
  // re-evaluates, for the persons of the batch only, the audiences it can
  // change, recording audience_entered / audience_exited. A batch after an
  // identity rebuild (unbind, split) instead marks everything for Refresh,
  // as does a queue over kMaxQueuedEvents.
  void NoteEvents(std::shared_ptr<const std::vector<Event>> events, uint64_t lsn);
  static constexpr size_t kMaxQueuedEvents = 1'000'000;
  // Blocks until every batch noted before the call has been handled by the
  // realtime thread (tests, benchmarks).
  void WaitForRealtime();
  struct RealtimeStats {
    uint64_t rounds = 0, batches = 0, events = 0, person_evaluations = 0, changes = 0;
    uint64_t merges = 0;     // merged persons followed person by person
    uint64_t overflows = 0;  // queue over kMaxQueuedEvents: everything refreshed instead
    uint64_t rebuilds = 0;   // identity rebuilds: everything refreshed instead
  };
  RealtimeStats realtime_stats() const;
  // A bulk load (or anything else that changes data wholesale): every
  // audience and tag is refreshed next time.
  void NoteAllChanged();
  // The clock audiences use ("now" of relative windows and RFM runs).
  int64_t NowMicros() const { return src_.clock->NowMicros(); }
  // Re-evaluates the audiences marked since the last call (all of them and
  // every tag when `full`), records audience_entered / audience_exited for
  // each person whose membership changed, and saves the new membership. An
  // audience's first evaluation records its baseline without changes.
  // Returns the number of changes recorded.
  Result<size_t> Refresh(bool full);
  // Changes with seq > after, oldest first, at most `limit`.
  Result<std::vector<MembershipChange>> Changes(uint64_t after, size_t limit) const;
  // The audiences (by name) the person belonged to at the last refresh.
  std::vector<std::string> MembershipsOf(uint32_t one_id) const;
  // One person's changes, oldest first.
  Result<std::vector<MembershipChange>> History(uint32_t one_id) const;

  // ---- Tags --------------------------------------------------------------------
  Result<TagRecord> PutTag(TagRecord tag);  // creates or replaces
  Status DeleteTag(const std::string& category, const std::string& name);
  std::vector<TagRecord> ListTags() const;
  Result<Roaring> TagMembers(const TagRecord& tag);
  // "category/tag" of every tag the person has now.
  Result<std::vector<std::string>> TagsOf(uint32_t one_id);

  // ---- Computed traits and RFM ------------------------------------------------
  // Saves the spec and computes its values now; returns how many persons have one.
  Result<size_t> PutComputedTrait(const ComputedTraitSpec& spec);
  Status DeleteComputedTrait(const std::string& name);
  std::vector<ComputedTraitSpec> ListComputedTraits() const;
  // Recomputes every computed trait (the scheduled job).
  Status RecomputeTraits();
  // Scores RFM with `options` and stores the scores; returns them.
  Result<std::vector<RfmScore>> RunRfm(const RfmOptions& options);
  // The last RFM run: its options and per-segment counts; NotFound if none.
  Result<Json> RfmSummary() const;

  // ---- Predicted traits (the models, docs/models.md) -------------------------
  // Replaces the values of the predicted trait `name` ([a-z0-9_]{1,64};
  // `values` sorted by one_id) and records `about` (the run that wrote
  // them); predicted.NAME reads them.
  Status PutPredicted(const std::string& name, std::vector<PersonValue> values, Json about);
  // {NAME: {"about": ..., "persons": n}} of every predicted trait.
  Json PredictedSummary() const;

  // {"computed": {...}, "rfm": {...}|null, "predicted": {...}} of one
  // person, for the profile.
  Json StoredAttributesOf(uint32_t one_id) const;

  // ---- Deletion -----------------------------------------------------------------
  // Deletion (a data-subject request, docs/privacy.md): removes the persons
  // `one_ids` (a deleted person's one_id and its aliases) from every saved
  // membership of audiences and tags, from the membership change feed and
  // history, and from computed traits, predicted traits and RFM scores, in
  // memory and in the state DB (one atomic batch where possible), and drops
  // cached results that may hold them. Nothing else changes. Idempotent:
  // erasing persons that are not there is OK.
  // The feed keeps the others' SEQs (Changes shows a gap) and never hands
  // out an erased SEQ again. Waits for a running Refresh, realtime round or
  // computed-trait / RFM / predicted-trait job to finish first. A Refresh
  // after the call but before the identity graph forgets the persons may
  // find them again: call it once more after the graph has forgotten them.
  // On failure nothing was erased.
  Status ErasePersons(const std::vector<uint32_t>& one_ids);

  // ---- AudienceData -----------------------------------------------------------
  Status ForEachTrait(std::string_view key, const ValueFn& fn) const override;
  std::optional<Json> TraitOf(uint32_t one_id, std::string_view key) const override;
  Status ForEachStoredAttribute(Namespace ns, std::string_view name,
                                const ValueFn& fn) const override;
  Result<Node> AudienceDefinition(std::string_view name) const override;

  EvalContext Context() const;
  uint64_t data_version() const { return version_.load(); }

 private:
  explicit Audiences(Sources sources) : src_(std::move(sources)) {}
  Status Load();
  Status LoadTags();              // membership.cc
  Status LoadStoredAttributes();  // stored_attributes.cc
  Status SaveAudience(const AudienceRecord& r);
  // Evaluate / TagMembers without waiting for the realtime thread (which
  // may be waiting for Refresh).
  Result<Roaring> EvaluateNow(const Node& definition);
  Result<Roaring> TagMembersNow(const TagRecord& tag);
  Status CheckReferences(const std::string& name, const Node& def) const;
  // Diffs `now` against the saved membership of `key` and records changes
  // (none when nothing was saved: `now` is the baseline), then saves `now`.
  // With `scope`, `now` covers only those persons: the others keep their
  // saved membership (and without one nothing is recorded or saved).
  Result<size_t> RecordChanges(const std::string& key, const Roaring& now,
                               const Roaring* scope = nullptr);
  // The realtime thread: handles noted batches in order (membership.cc).
  void RealtimeLoop();
  struct Noted {
    std::shared_ptr<const std::vector<Event>> events;
    uint64_t lsn = 0;
    AudienceEvaluator::MergeList merges;  // persons merged by the batch
  };
  Status HandleBatches(const std::vector<Noted>& batches);
  // The audiences the events can change, given the kinds of data they carry.
  std::vector<AudienceRecord> AffectedBy(const std::vector<Noted>& batches) const;
  Result<Roaring> SavedMembers(const std::string& key) const;
  // ErasePersons, membership.cc: adds to `batch` every saved membership
  // rewritten without `gone` and the deletion of their changes.
  // REQUIRES: refresh_mu_ held.
  Status EraseMembershipOf(const Roaring& gone, store::StateWriteBatch* batch) const;
  // ErasePersons, stored_attributes.cc: adds to `batch` every chunk of
  // computed, predicted and RFM values rewritten without `gone`.
  Status EraseStoredValuesOf(const Roaring& gone, store::StateWriteBatch* batch) const;
  // Once the batch is written: the same in memory. REQUIRES: mu_ held
  // exclusively.
  void ForgetMembershipOf(const Roaring& gone);
  void ForgetStoredValuesOf(const Roaring& gone);

  Sources src_;
  AudienceEvaluator evaluator_;
  std::atomic<uint64_t> version_{1};

  mutable std::shared_mutex mu_;  // the maps below
  std::map<std::string, AudienceRecord> audiences_;
  std::map<std::pair<std::string, std::string>, TagRecord> tags_;
  std::map<std::string, ComputedTraitSpec> trait_specs_;
  std::map<std::string, std::shared_ptr<const std::vector<PersonValue>>> trait_values_;
  std::shared_ptr<const std::vector<RfmScore>> rfm_;
  struct Predicted {
    Json about;
    std::shared_ptr<const std::vector<PersonValue>> values;
  };
  std::map<std::string, Predicted> predicted_;
  RfmOptions rfm_options_;
  uint64_t seen_remaps_ = 0;     // IdentityGraph remaps handled (MergesSince)
  std::set<std::string> dirty_;  // audiences to refresh
  bool all_dirty_ = false;
  bool tags_dirty_ = false;  // any new data since tags were refreshed

  // Last saved membership per audience / tag key, as RecordChanges wrote it.
  std::map<std::string, std::shared_ptr<const Roaring>> saved_;  // guarded by mu_

  // One job writing stored attributes (PutComputedTrait,
  // DeleteComputedTrait, RunRfm, PutPredicted) or ErasePersons at a time,
  // held from the computation to the save, so no job saves values of
  // persons erased meanwhile. Taken before refresh_mu_.
  std::mutex attributes_mu_;
  // One Refresh, realtime round, Delete / DeleteTag or ErasePersons at a
  // time; guards seq_. Taken before mu_.
  std::mutex refresh_mu_;
  uint64_t seq_ = 0;

  // Batches noted for the realtime thread.
  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;  // a batch noted, or closing
  std::condition_variable idle_cv_;   // a round of batches handled
  std::vector<Noted> queue_;
  size_t queued_events_ = 0;
  uint64_t noted_ = 0, handled_ = 0;  // batches (for WaitForRealtime)
  bool closing_ = false;
  RealtimeStats rt_stats_;  // guarded by queue_mu_
  std::thread realtime_;
};

}  // namespace quanyu::audience
