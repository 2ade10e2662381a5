// Engine: the one object that owns the stages and wires the flow
// (ARCHITECTURE.md §1–2): collect → privacy gate → log → identity → store.
// The server and the CLI call its entry points and render the results; no
// business logic lives in them.
//
// Durability contract: the callback of Ingest() reports success only after
// every accepted event is in the write-ahead log and the log is fsync'd.
//
// Thread-safety: all public methods are safe to call concurrently after
// Open() returns.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "attribution/request.h"
#include "attribution/store_paths.h"
#include "audience/audiences.h"
#include "collect/ingest.h"
#include "collect/normalize.h"
#include "collect/sources.h"
#include "common/config.h"
#include "common/metrics.h"
#include "common/result.h"
#include "engine/ingest_meter.h"
#include "identity/graph.h"
#include "log/dedupe.h"
#include "log/event_log.h"
#include "models/run.h"
#include "privacy/access.h"
#include "privacy/consent.h"
#include "privacy/crypto.h"
#include "privacy/gate.h"
#include "privacy/pii.h"
#include "privacy/requests.h"
#include "privacy/suppression.h"
#include "privacy/tracking_plan.h"
#include "query/params.h"
#include "query/query.h"
#include "store/catalog.h"
#include "store/event_store.h"
#include "store/profile_store.h"
#include "store/spend_store.h"
#include "store/state_db.h"

namespace quanyu {

// The outcome of one ingest call.
struct IngestResult {
  Status status;          // OK, or why nothing was accepted (auth, back-pressure, I/O)
  size_t accepted = 0;    // new events now durable
  size_t duplicates = 0;  // already stored (same source + messageId within the window)
  std::vector<collect::Rejection> rejected;
  // With ResourceExhausted (back-pressure): the events that were not
  // appended, already normalized, so a local loader can retry them without
  // keeping a copy.
  std::vector<Event> not_appended;
};
using IngestCallback = std::function<void(IngestResult)>;

// What the wire format gave, plus the credentials found outside the body.
struct IngestRequest {
  std::string write_key;  // from Basic auth / token; the body's writeKey is used if empty
  collect::ParsedRequest parsed;
};

struct EngineStats {
  store::StoreStats store;
  identity::GraphStats identity;
  uint64_t identity_lsn = 0;  // log records applied to the identity graph
  size_t profile_partials = 0;
  uint64_t log_durable_lsn = 0;
  size_t log_queued_bytes = 0;
  size_t dedupe_ids = 0;
};

class Engine {
 public:
  // Opens (creating if needed) the data directory in config.data_dir:
  // <dir>/log, <dir>/events, <dir>/state; loads sources from the config and
  // the state DB; recovers by replaying the log past the store checkpoint.
  static Result<std::unique_ptr<Engine>> Open(const Config& config);
  ~Engine();

  // Validates the write key, normalizes, de-duplicates and appends to the
  // log. `done` is called exactly once — possibly on another thread — after
  // the accepted events are durable, or with the error. Returns nothing:
  // every outcome goes through `done`.
  void Ingest(IngestRequest request, IngestCallback done);
  // Ingest and wait (CLI import, tests).
  IngestResult IngestSync(IngestRequest request);

  // Bulk path for trusted local loaders (import, sim): events from a known
  // source, already parsed; same normalization, dedupe and durability.
  IngestResult IngestFromSource(const collect::SourceInfo& source, std::vector<Event> events);

  // Bulk path that bypasses the log for loading a fresh data set (the
  // simulator): same normalization and dedupe, events go straight to the
  // store's buffer. The load is complete and its ids remembered only when
  // FinishBulkLoad() returns. A crash before that can leave part of the load
  // in segments without its ids in the dedupe snapshot, so a re-run could
  // store that part twice: bulk-load only into a fresh data directory and
  // start over after a crash. REQUIRES: no concurrent Ingest.
  IngestResult BulkLoad(const collect::SourceInfo& source, std::vector<Event> events);
  Status FinishBulkLoad();

  // Sources.
  Result<SourceConfig> AddSource(const std::string& name, const std::string& type);
  std::vector<SourceConfig> ListSources() const;
  // Gives source `name` a new write key and returns the source with it; the
  // old key is refused from the moment this returns. NotFound for an unknown
  // source; InvalidArgument for one defined in [[sources]] of quanyu.toml
  // (the file sets its key: change it there).
  Result<SourceConfig> RotateSourceKey(const std::string& name);
  std::optional<collect::SourceInfo> LookupSource(std::string_view write_key) const;

  // Ad spend.
  Status ImportSpend(const std::vector<store::SpendRow>& rows);
  Result<std::vector<store::SpendRow>> ListSpend(const std::string& from_date,
                                                 const std::string& to_date) const;

  // Event scans for export and analysis.
  Status ScanEvents(const store::ScanRequest& request, const store::ScanFn& fn) const;

  // One-ID (docs/identity.md). Persons are named by one_id; an alias one_id
  // answers for the person it was merged into.
  //
  // Parses and normalizes "NAMESPACE[:SCOPE]:VALUE" (e.g. "phone:+8613800138000",
  // "wechat_openid:wx123:oAbc"): InvalidArgument if malformed, junk or not a
  // valid value of its namespace. A direct identifier's value comes back as
  // its token (privacy/pii.h), as the graph holds it; with `keep`, its
  // plaintext is queued there for the vault (AppendCorrection commits it),
  // for identifiers an event is about to record.
  Result<Identifier> ParseIdentifier(std::string_view text,
                                     privacy::PiiVault::Pending* keep = nullptr) const;
  // Personal data at rest (docs/privacy.md): `text` (JSON unless `json` is
  // false) with every PII token revealed as its plaintext, or masked.
  std::string RevealPii(std::string_view text, bool mask = false, bool json = true,
                        size_t* revealed = nullptr) const;
  // `id` with a tokenized value replaced by its plaintext; NotFound if the
  // value was erased.
  Result<Identifier> RevealIdentifier(Identifier id) const;
  const privacy::PiiVault& vault() const { return *vault_; }
  const privacy::KeyRing& key_ring() const { return *keys_; }
  // The key file the ring came from; "" when from QUANYU_PRIVACY_KEY.
  const std::string& key_file() const { return key_file_; }
  // `text` with the emails and phone numbers in it tokenized and their
  // plaintexts committed to the vault (for free text the engine stores, such
  // as an audit entry's path).
  Result<std::string> ProtectText(std::string_view text);
  // Commits plaintexts queued by ParseIdentifier(text, keep) for state that
  // holds their tokens outside an event (list tags).
  Status KeepPii(privacy::PiiVault::Pending* keep) { return vault_->Commit(keep); }
  // Adds a key to the ring and re-encrypts every vault record under it
  // (`quanyu key rotate`). InvalidArgument when the ring came from
  // QUANYU_PRIVACY_KEY (rotate the file, then the variable, by hand).
  struct KeyRotation {
    uint8_t key_id = 0;    // the new current key
    size_t resealed = 0;   // vault records re-encrypted
    std::string key_file;  // where the new ring was written
  };
  Result<KeyRotation> RotateKey();
  // The person holding an identifier; NotFound if unknown.
  Result<uint32_t> LookupPerson(std::string_view identifier) const;
  // The live one_id for an id or alias; NotFound if never allocated.
  Result<uint32_t> ResolvePerson(uint32_t one_id) const;
  // The profile as one JSON object (docs/openapi.yaml, Profile); NotFound.
  Result<std::string> ProfileJson(uint32_t one_id) const;
  // Identifiers, links with their causing events, merges and conflicts, as
  // JSON (docs/openapi.yaml, PersonIdentity); NotFound.
  Result<std::string> IdentityJson(uint32_t one_id) const;
  // A page of the person's events across all identifiers, newest first.
  // `cursor` is "" for the first page, else the previous page's
  // next_cursor; InvalidArgument for a malformed cursor.
  struct TimelinePage {
    std::vector<Event> events;
    std::string next_cursor;  // "" on the last page
  };
  Result<TimelinePage> PersonEvents(uint32_t one_id, const std::string& cursor, size_t limit) const;
  // Corrections. Each is appended to the log as an event of source
  // "quanyu_admin" (so a restart replays it in order) and applied before the
  // call returns; returns that event's messageId. NotFound if the identifier,
  // person or link is unknown.
  Result<std::string> Unbind(std::string_view identifier);
  Result<std::string> Split(uint32_t one_id, const std::string& undo_message_id);
  const identity::IdentityGraph& identity() const { return *identity_; }

  // Privacy (docs/privacy.md).
  //
  // The person's consent state from the ledger: the latest decision per
  // purpose and channel over all their identifiers, with the history.
  privacy::ConsentState ConsentOf(uint32_t one_id) const;
  // Records consent decisions for the holder of `identifier` (created if
  // unknown): appends a "Consent Updated" event carrying `consent` (the
  // object of context.consent: "purposes", "channels", "policy_version",
  // "source") through the log and applies it before returning; returns that
  // event's messageId. InvalidArgument for a bad identifier or a consent
  // object without a single known decision.
  Result<std::string> RecordConsent(std::string_view identifier, const std::string& consent_json);
  // The consent state as JSON (docs/openapi.yaml, ConsentState).
  static std::string ConsentJson(const privacy::ConsentState& state);
  // Every live person's consent state counted per purpose and channel
  // (GET /api/v1/consent/coverage): the ledger's keys are grouped by the
  // person they belong to now and each such person's state folded once; the
  // rest are unknown everywhere. In memory, no disk read: O(keys holding a
  // decision + the identifiers of their persons), under the ledger's and the
  // graph's shared locks.
  privacy::ConsentCoverage CountConsent() const;
  // Whether a person may be used as `use` says (privacy::MayUse), counted in
  // /metrics under quanyu_privacy_decisions_total{stage}.
  privacy::UseDecision MayUse(uint32_t one_id, const privacy::Use& use,
                              std::string_view stage) const;
  const privacy::CollectPolicy& collect_policy() const { return collect_policy_; }
  // API keys with roles, and the audit log (docs/privacy.md, "Roles and
  // audit"); both persisted in the state DB.
  privacy::ApiKeys& api_keys() const { return *api_keys_; }
  // The tracking plan (privacy::TrackingPlan, docs/privacy.md): checked at
  // collect for every event from now on. Replaces the plan and keeps it in
  // the state DB, where it wins over [privacy] tracking_plan at the next
  // open; InvalidArgument (naming the JSON path) for a bad plan, which
  // changes nothing. A plan without events whose unplanned mode is allow
  // turns checking off.
  Status SetTrackingPlan(std::string_view json_text);
  // The plan in force as JSON ("{}" plus defaults when none).
  std::string TrackingPlanJson() const;
  // Violations seen since the server started, per source and event:
  // {"violations": [{"source", "event", "kind", "verdict", "count",
  // "example"}]}.
  std::string TrackingPlanViolationsJson() const;
  privacy::AuditLog& audit() const { return *audit_; }

  // Data-subject requests (docs/privacy.md): records the request in the
  // queue (subject by keyed hash only), carries it out and answers
  // {"request": {...}} plus, for access, "data": everything held about the
  // person across merged identities (profile, identity graph, consent,
  // events). `detail` is the correct request's traits object or, for
  // withdraw, an optional consent object (default: every purpose and
  // channel withdrawn). InvalidArgument for a bad identifier or detail. A
  // request that fails after it was queued is saved as failed and its error
  // returned.
  //
  // "delete" answers at once with the request "running": the identifier
  // named and every identifier of its person are already on the
  // suppression list (events carrying one are dropped from now on), and the
  // erasure itself runs on the maintenance thread (RunPendingDeletions; the
  // CLI calls that directly). docs/privacy.md, "Deletion", lists what it
  // erases and how a crash midway is resumed.
  Result<query::Json> DataSubjectRequest(privacy::RequestType type, privacy::Regime regime,
                                         std::string_view identifier, const query::Json& detail);
  privacy::RequestQueue& requests() const { return *requests_; }
  // Carries out every deletion request that is pending or running (one at a
  // time, in the order received) and marks each completed; the first error
  // stops the run and leaves its request running, to be resumed by the next
  // call. Open runs it, so a deletion a crash interrupted resumes before
  // the engine serves.
  Status RunPendingDeletions();
  const privacy::SuppressionList& suppressed() const { return *suppressed_; }
  // The requests as JSON (times formatted, "overdue" for open ones past
  // their deadline).
  static query::Json RequestJson(const privacy::DataSubjectRequest& r, int64_t now_us);

  // Retention (docs/privacy.md), as of `now_us`: removes the stored events
  // older than [retention] raw_events_days, and erases — as a deletion
  // request would, but without suppressing their identifiers — every
  // person whose last event is older than profiles_inactive_days (none
  // when 0). The maintenance thread runs it every [retention] interval_s.
  struct InactiveErasure {
    uint64_t persons = 0;
    uint64_t events = 0;
  };
  struct RetentionRun {
    store::RetentionResult raw_events;
    InactiveErasure inactive;
  };
  Result<RetentionRun> ApplyRetention(int64_t now_us);

  // Analytics (docs/metrics.md): runs query `kind` (funnel, retention,
  // paths, touchpoints, kpis, trends) over the stored events with identities
  // resolved now, names checked against EventCatalog() and the [query]
  // options of the config. Errors as query::RunQuery (InvalidArgument =
  // HTTP 400). Runs on the calling thread.
  Result<query::Json> Query(std::string_view kind, const query::Json& body) const;
  // Conversion paths of the stored events with identities resolved now
  // (attribution::BuildPaths, docs/attribution.md). Runs on the calling
  // thread.
  Result<attribution::PathSet> AttributionPaths(const attribution::PathOptions& options) const;
  // Query on one of the engine's query workers ([query] workers of them), so
  // a server thread never waits for a scan: `done` is called exactly once,
  // on a worker — or at once on the calling thread with ResourceExhausted
  // (HTTP 429) when kMaxQueuedQueries already wait, or Unavailable once
  // Close has begun (queued queries are answered so too).
  using QueryCallback = std::function<void(Result<query::Json>)>;
  static constexpr size_t kMaxQueuedQueries = 64;
  void QueryAsync(std::string kind, query::Json body, QueryCallback done);
  // Multi-touch attribution on the store (attribution::RunAttribution): the
  // paths, every model asked for, spend joined. Runs on the calling thread.
  Result<attribution::AttributionAnswer> Attribution(
      const attribution::AttributionRequest& request) const;
  // POST /api/v1/attribution: parses `body` (attribution::ParseAttributionRequest)
  // and answers attribution::AnswerJson on a query worker, as QueryAsync.
  void AttributionAsync(query::Json body, QueryCallback done);
  // The predictive models (docs/models.md): fits model `kind` (clv, churn,
  // propensity, recommend; models::RunModel) on the store, stores its
  // predicted traits (unless the body says "store": false) and answers the
  // run's JSON with "stored_traits": {NAME: persons}. InvalidArgument (HTTP
  // 400) as models::RunModel. Runs on the calling thread.
  Result<query::Json> RunModel(std::string_view kind, const query::Json& body,
                               const models::ModelProgress& progress = {});
  // RunModel on a query worker, as QueryAsync.
  void ModelAsync(std::string kind, query::Json body, QueryCallback done);
  // The answer of the last run of model `kind` that stored its traits, plus
  // "computed_at" (RunModel keeps it in the state DB under
  // "model_report/" + kind, replacing the one before). NotFound, saying to
  // run the model, when none has; Corruption for an unreadable record.
  Result<query::Json> ModelReport(std::string_view kind) const;
  // The event names, counts, time ranges and property keys of every stored
  // event, buffered ones included (store::EventStore::Catalog).
  std::shared_ptr<const store::EventCatalog> EventCatalog() const;
  const query::QueryOptions& query_options() const { return query_options_; }

  // Audiences, tags, computed traits and RFM (docs/audiences.md). New data
  // reaches them as it is applied; the maintenance thread refreshes realtime
  // membership every [audience] refresh_interval_s and recomputes everything
  // every recompute_interval_s.
  audience::Audiences& audiences() const { return *audiences_; }

  // Forces buffered events into segments and checkpoints the log.
  Status Checkpoint();
  // Merges small segments of the same day (EventStore::Compact); `full`
  // merges every small segment, not only full size tiers. FinishBulkLoad
  // runs a full pass; the store's background thread runs tiered passes.
  Result<store::CompactionResult> Compact(bool full);

  EngineStats Stats() const;
  const Config& config() const { return config_; }
  const collect::Limits& limits() const { return limits_; }

  // Counts a request-level rejection (bad JSON, oversize, auth...) by reason.
  void CountRejection(const std::string& reason, const std::string& source, size_t n = 1);
  // Events accepted and rejected (by reason) since Open, and per second over
  // the last minute (IngestMeter): every event CountRejection and
  // CountAccepted count for /metrics.
  IngestActivity IngestHealth() const;

  // Orderly shutdown: drains the log, flushes the store, saves dedupe state.
  Status Close();

 private:
  class QueryWorkers;  // engine_query.cc

  explicit Engine(const Config& config);
  Status Recover();
  // [query] of the config as query::QueryOptions, and the query workers;
  // InvalidArgument naming the key for a bad time zone, idle gap or count.
  Status OpenQueries();
  void CloseQueries();  // answers queued queries Unavailable, waits for running ones
  // The store, identities now, spend and [query] options, with `catalog`
  // (nullptr: names are not checked) for a query, model or attribution run.
  query::QueryContext QueryContextOver(const store::EventCatalog* catalog) const;
  // Appends normalized, de-duplicated events to the log; on durability,
  // resolves identity, updates profiles and adds them to the store.
  void Append(std::string source_name, std::shared_ptr<std::vector<Event>> events,
              IngestResult result, IngestCallback done);
  // Resolves identity and updates profiles for events durable at `lsn`.
  void ResolveIdentity(std::vector<Event>* events, uint64_t lsn);
  // Writes the identity graph and profiles changed since the last call with
  // the LSN they cover. REQUIRES: maintenance_mu_ held.
  Status CheckpointIdentity();
  // Appends an event the engine itself writes (consent, corrections,
  // identity splits), after tokenizing its personal data and committing it
  // and `keep` (from ParseIdentifier) to the vault.
  Result<std::string> AppendCorrection(Event e, privacy::PiiVault::Pending* keep = nullptr);
  // Consent decisions of earlier events of the same request, by identifier,
  // so a withdrawal and the events after it in one batch are gated together.
  using ConsentOverlay = std::unordered_map<std::string, std::vector<privacy::ConsentDecision>>;
  // False (and a rejection added and counted) for an event that must not be
  // stored: no usable identifier, a type only the engine itself writes, or a
  // privacy rule (GateEvent). May strip sensitive properties from `e`.
  // Tokenizes its direct identifiers, queueing new plaintexts in `pending`.
  bool Admissible(Event* e, IngestResult* result, ConsentOverlay* overlay,
                  privacy::PiiVault::Pending* pending);
  // The tracking plan, then the privacy gate at collect
  // (privacy::GateAtCollect) with the consent of every person the event's
  // identifiers belong to now plus `overlay`.
  bool GateEvent(Event* e, IngestResult* result, ConsentOverlay* overlay);
  bool CheckTrackingPlan(const Event& e, IngestResult* result);
  // SetTrackingPlan; `persist` = false for the plans read at open.
  Status InstallTrackingPlan(std::string_view json_text, bool persist);
  // [privacy] of the config as privacy::CollectPolicy, the tracking plan
  // and the key ring; InvalidArgument naming the key for an unknown policy
  // name or a bad key file.
  Status OpenPrivacy();
  // Erases everything held about the subject of deletion request `r` and
  // marks it completed (RunPendingDeletions); safe to run again after a
  // crash at any point.
  Status CarryOutDeletion(privacy::DataSubjectRequest* r);
  // What a deletion erases, in its crash-safe order: the stored events of
  // `keys` (sorted) or carrying an identifier `carrying` names (may be
  // empty), the log up to now, profile partials and consent of `keys`,
  // audience data of `persons` and their aliases, then the persons in the
  // identity graph; then the state DB is compacted. Each step is
  // idempotent; crash points "delete:store|log|profile|identity|compact"
  // follow them.
  Result<store::EraseResult> EraseData(const std::vector<uint32_t>& persons,
                                       const std::vector<identity::IdentKey>& keys,
                                       std::function<bool(const Identifier&)> carrying);
  // Removes from uploaded list tags every identifier `carrying` names or
  // one of `persons` holds (EraseData, before the graph forgets them).
  Status EraseFromListTags(const std::vector<uint32_t>& persons,
                           const std::function<bool(const Identifier&)>& carrying);
  // Retention's inactive profiles: erases every person whose newest
  // last_seen over their keys is before `cutoff_us`.
  Result<InactiveErasure> EraseInactivePersons(int64_t cutoff_us);
  // Suppresses the identifiers of `keys` for request `request_id`, with no
  // event between the gate and the log meanwhile, then waits until every
  // event that passed the gate before is applied.
  Status SuppressKeys(const std::vector<identity::IdentKey>& keys, const std::string& request_id);
  // Everything held about person `one_id` (the access request's "data").
  Result<query::Json> PersonalData(uint32_t one_id) const;
  void MaintenanceLoop();
  // Realtime membership and the scheduled recompute (MaintenanceLoop).
  void RefreshAudiences(std::unique_lock<std::mutex>* lock);
  void CountAccepted(const std::string& source, size_t events, size_t bytes);

  Config config_;
  IngestMeter ingest_meter_;
  collect::Limits limits_;
  collect::Normalizer normalizer_;
  collect::SourceRegistry sources_;
  std::mutex sources_mu_;  // one source change at a time: the state DB, then sources_
  std::unique_ptr<store::StateDb> state_;
  std::unique_ptr<store::SpendStore> spend_;
  std::unique_ptr<store::EventStore> store_;
  std::unique_ptr<log::EventLog> log_;
  std::unique_ptr<log::MessageDedupe> dedupe_;
  std::unique_ptr<identity::IdentityGraph> identity_;
  std::unique_ptr<store::ProfileStore> profiles_;
  std::unique_ptr<privacy::ConsentLedger> consent_;
  std::unique_ptr<privacy::ApiKeys> api_keys_;
  std::unique_ptr<privacy::AuditLog> audit_;
  std::unique_ptr<privacy::RequestQueue> requests_;
  std::unique_ptr<privacy::SuppressionList> suppressed_;
  // Ingest holds it shared from the gate until its events are queued in the
  // log; a deletion holds it exclusively while it adds to the suppression
  // list, so no event checked against the old list reaches the log after.
  std::shared_mutex admit_mu_;
  std::mutex deletion_mu_;                      // one deletion at a time
  std::atomic<bool> deletions_waiting_{false};  // the maintenance thread runs them
  std::chrono::steady_clock::time_point deletion_retry_{};
  std::optional<privacy::KeyRing> keys_;  // PII keys: keyed hashes and the vault's encryption
  std::string key_file_;                  // where keys_ came from; "" = QUANYU_PRIVACY_KEY
  std::unique_ptr<privacy::PiiVault> vault_;
  privacy::CollectPolicy collect_policy_;
  mutable std::mutex plan_mu_;                         // guards plan_ (the pointer) and violations_
  std::shared_ptr<const privacy::TrackingPlan> plan_;  // nullptr = no plan
  struct PlanViolations {
    uint64_t count = 0;
    std::string example;
  };
  // (source, event, kind, verdict) -> what was seen.
  std::map<std::tuple<std::string, std::string, std::string, std::string>, PlanViolations>
      violations_;
  std::unique_ptr<audience::Audiences> audiences_;
  query::QueryOptions query_options_;            // from [query], checked at Open
  std::shared_ptr<QueryWorkers> query_workers_;  // threads start with the first QueryAsync
  mutable std::mutex identity_mu_;  // orders Apply + lsn against the identity checkpoint
  uint64_t identity_lsn_ = 0;       // guarded by identity_mu_: applied up to here
  std::atomic<uint64_t> identity_saved_lsn_{0};  // persisted up to here
  std::atomic<bool> identity_write_failed_{false};
  std::string dedupe_path_;

  std::atomic<bool> closing_{false};
  std::thread maintenance_;
  std::mutex maintenance_mu_;
  std::condition_variable maintenance_cv_;
  uint64_t truncated_lsn_ = 0;
  std::chrono::steady_clock::time_point last_snapshot_{};
  std::chrono::steady_clock::time_point last_refresh_{}, last_recompute_{};
  std::chrono::steady_clock::time_point last_retention_{};
};

}  // namespace quanyu
