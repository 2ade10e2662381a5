#include "engine/engine.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/coding.h"
#include "common/event_codec.h"
#include "common/time_util.h"

namespace quanyu {
namespace fs = std::filesystem;

namespace {

constexpr char kSourcePrefix[] = "source/";
constexpr char kIdentityLsnKey[] = "identity/lsn";

std::string SourceToJson(const SourceConfig& s) {
  return nlohmann::json{{"name", s.name}, {"type", s.type}, {"write_key", s.write_key}}.dump();
}

Result<SourceConfig> SourceFromJson(const std::string& text) {
  try {
    auto j = nlohmann::json::parse(text);
    return SourceConfig{j.at("name").get<std::string>(), j.at("type").get<std::string>(),
                        j.at("write_key").get<std::string>()};
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("bad source record in state DB: ") + e.what());
  }
}

}  // namespace

Engine::Engine(const Config& config)
    : config_(config),
      ingest_meter_(SystemClock::Default()->NowMicros()),
      limits_{config.max_event_bytes, config.max_batch_bytes, config.max_batch_events},
      normalizer_(config) {}

Result<std::unique_ptr<Engine>> Engine::Open(const Config& config) {
  if (config.data_dir.empty())
    return Status::InvalidArgument("no data directory given (--data DIR)");
  std::error_code ec;
  fs::create_directories(config.data_dir, ec);
  if (ec)
    return Status::IOError("cannot create data directory " + config.data_dir + ": " + ec.message());

  std::unique_ptr<Engine> engine(new Engine(config));
  RETURN_IF_ERROR(engine->OpenQueries());
  const std::string& dir = config.data_dir;
  ASSIGN_OR_RETURN(engine->state_, store::StateDb::Open(dir + "/state"));
  engine->spend_ = std::make_unique<store::SpendStore>(engine->state_.get());
  ASSIGN_OR_RETURN(identity::IdentityRules rules, identity::IdentityRules::FromConfig(config));
  ASSIGN_OR_RETURN(engine->identity_, identity::IdentityGraph::Load(*engine->state_, rules));
  ASSIGN_OR_RETURN(engine->profiles_, store::ProfileStore::Load(*engine->state_));
  ASSIGN_OR_RETURN(engine->consent_, privacy::ConsentLedger::Load(*engine->state_));
  RETURN_IF_ERROR(engine->OpenPrivacy());
  ASSIGN_OR_RETURN(engine->api_keys_, privacy::ApiKeys::Open(engine->state_.get()));
  ASSIGN_OR_RETURN(engine->audit_, privacy::AuditLog::Open(engine->state_.get()));
  ASSIGN_OR_RETURN(engine->requests_, privacy::RequestQueue::Open(engine->state_.get()));
  ASSIGN_OR_RETURN(engine->suppressed_,
                   privacy::SuppressionList::Open(engine->state_.get(), &*engine->keys_));
  if (auto lsn = engine->state_->Get(kIdentityLsnKey); lsn.ok()) {
    if (lsn->size() != 8) return Status::Corruption("bad identity/lsn record in state DB");
    engine->identity_lsn_ = DecodeFixed64(lsn->data());
    engine->identity_saved_lsn_ = engine->identity_lsn_;
  } else if (lsn.status().code() != StatusCode::kNotFound) {
    return lsn.status();
  }

  for (const auto& s : config.sources) {
    RETURN_IF_ERROR(engine->sources_.Add(s).WithContext("config [[sources]] " + s.name));
  }
  RETURN_IF_ERROR(
      engine->state_->ScanPrefix(kSourcePrefix, [&](std::string_view, std::string_view value) {
        ASSIGN_OR_RETURN(SourceConfig s, SourceFromJson(std::string(value)));
        return engine->sources_.Add(s);
      }));

  store::StoreOptions so;
  so.dir = dir;
  so.flush_events = config.flush_events;
  so.flush_interval_us = int64_t{config.flush_interval_s} * kMicrosPerSecond;
  ASSIGN_OR_RETURN(engine->store_, store::EventStore::Open(so));

  log::LogOptions lo;
  lo.dir = dir + "/log";
  lo.file_bytes = config.log_file_bytes;
  lo.max_delay_us = config.group_commit_max_delay_us;
  lo.max_queue_bytes = config.max_queue_bytes;
  log::ReplayStats replay_stats;
  ASSIGN_OR_RETURN(engine->log_, log::EventLog::Open(lo, &replay_stats));
  if (replay_stats.torn_bytes_truncated || replay_stats.corrupt_records_skipped) {
    spdlog::warn("log recovery: truncated {} torn bytes at the tail, skipped {} corrupt records",
                 replay_stats.torn_bytes_truncated, replay_stats.corrupt_records_skipped);
  }
  engine->dedupe_ = std::make_unique<log::MessageDedupe>(config.dedupe_window_s * kMicrosPerSecond);
  engine->dedupe_path_ = dir + "/dedupe.snap";
  RETURN_IF_ERROR(engine->Recover());
  audience::Audiences::Sources as;
  as.store = engine->store_.get();
  as.graph = engine->identity_.get();
  as.profiles = engine->profiles_.get();
  as.state = engine->state_.get();
  as.clock = SystemClock::Default();
  as.options = engine->query_options_;
  ASSIGN_OR_RETURN(engine->audiences_, audience::Audiences::Open(std::move(as)));
  engine->last_refresh_ = engine->last_recompute_ = std::chrono::steady_clock::now();
  // A deletion a crash interrupted finishes before anything is served; if
  // it cannot, the maintenance thread retries it.
  if (Status st = engine->RunPendingDeletions(); !st.ok()) {
    spdlog::error("resuming deletion requests: {} (retried in the background)", st.ToString());
    engine->deletions_waiting_ = true;
  }
  engine->maintenance_ = std::thread([e = engine.get()] { e->MaintenanceLoop(); });
  return engine;
}

Status Engine::Recover() {
  // The dedupe snapshot covers ids committed at LSN <= covered; the store
  // holds every event with LSN <= checkpoint; the identity graph and profiles
  // in the state DB every record with LSN <= identity_lsn_. The log is never
  // truncated past the smallest, so replaying from there rebuilds all three
  // exactly: identity resolution is deterministic, so replaying the same
  // records in the same order gives the same keys the store already holds.
  uint64_t covered = 0;
  RETURN_IF_ERROR(dedupe_->LoadSnapshot(dedupe_path_, &covered));
  uint64_t checkpoint = store_->CheckpointLsn();
  uint64_t identity_lsn = identity_lsn_;
  uint64_t from = std::min({covered, checkpoint, identity_lsn});
  uint64_t replayed = 0;
  RETURN_IF_ERROR(log_->Replay(from, [&](log::Lsn lsn, std::string_view payload) -> Status {
    ASSIGN_OR_RETURN(std::vector<Event> events, DecodeEventBatch(payload));
    // Events of erased persons may still be in the log when a deletion was
    // interrupted: they stay out (the deletion resumes after Recover).
    if (suppressed_->size() > 0) {
      std::erase_if(events, [&](const Event& e) { return suppressed_->Matches(e); });
    }
    for (const auto& e : events) {
      dedupe_->Insert(e.source, e.message_id, e.received_us);
      dedupe_->Commit(e.source, e.message_id, lsn);
    }
    if (lsn > identity_lsn) {
      ResolveIdentity(&events, lsn);
    } else if (lsn > checkpoint) {
      for (auto& e : events) e.identity_key = identity_->KeyOf(e);
    }
    if (lsn > checkpoint) {
      replayed += events.size();
      store_->Add(std::move(events), lsn);
    }
    return Status::OK();
  }));
  dedupe_->Expire(SystemClock::Default()->NowMicros());
  truncated_lsn_ = from;
  if (replayed)
    spdlog::info("recovered {} events from the log after checkpoint {}", replayed, checkpoint);
  return Status::OK();
}

Engine::~Engine() { (void)Close(); }

void Engine::CountRejection(const std::string& reason, const std::string& source, size_t n) {
  MetricsRegistry::Default()
      ->GetCounter("quanyu_events_rejected_total", "Events not accepted, by reason and source",
                   {{"reason", reason}, {"source", source}})
      ->Add(n);
  ingest_meter_.Rejected(SystemClock::Default()->NowMicros(), reason, n);
}

void Engine::CountAccepted(const std::string& source, size_t events, size_t bytes) {
  auto* m = MetricsRegistry::Default();
  m->GetCounter("quanyu_events_accepted_total", "Events durable in the log, by source",
                {{"source", source}})
      ->Add(events);
  m->GetCounter("quanyu_events_accepted_bytes_total", "Encoded bytes of accepted events, by source",
                {{"source", source}})
      ->Add(bytes);
  ingest_meter_.Accepted(SystemClock::Default()->NowMicros(), events);
}

IngestActivity Engine::IngestHealth() const {
  return ingest_meter_.Snapshot(SystemClock::Default()->NowMicros());
}

void Engine::Ingest(IngestRequest request, IngestCallback done) {
  IngestResult result;
  result.rejected = std::move(request.parsed.rejected);
  const std::string& key = request.write_key.empty() ? request.parsed.write_key : request.write_key;
  size_t total = request.parsed.events.size() + result.rejected.size();
  if (key.empty()) {
    CountRejection("unauthorized", "", total);
    result.status = Status::Unauthenticated(
        "missing write key: send it as the Basic auth user name or as \"writeKey\" in the body");
    return done(std::move(result));
  }
  auto source = sources_.Lookup(key);
  if (!source) {
    CountRejection("unauthorized", "", total);
    result.status = Status::Unauthenticated("unknown write key");
    return done(std::move(result));
  }
  for (const auto& r : result.rejected) CountRejection(r.reason, source->name);

  auto events = std::make_shared<std::vector<Event>>();
  events->reserve(request.parsed.events.size());
  int64_t now = SystemClock::Default()->NowMicros();
  ConsentOverlay overlay;
  privacy::PiiVault::Pending pii;
  std::shared_lock admit(admit_mu_);  // until the events are queued in the log
  for (auto& e : request.parsed.events) {
    normalizer_.Normalize(&e, *source);
    if (!Admissible(&e, &result, &overlay, &pii)) continue;
    if (!dedupe_->Insert(e.source, e.message_id, now)) {
      ++result.duplicates;
      continue;
    }
    events->push_back(std::move(e));
  }
  // The plaintexts behind new tokens are durable before the events are.
  if (Status sealed = vault_->Commit(&pii); !sealed.ok()) {
    for (const auto& e : *events) dedupe_->Erase(e.source, e.message_id);
    CountRejection("vault_error", source->name, events->size());
    result.status = sealed;
    return done(std::move(result));
  }
  if (result.duplicates) {
    MetricsRegistry::Default()
        ->GetCounter("quanyu_events_duplicate_total",
                     "Events dropped as already stored (messageId)", {{"source", source->name}})
        ->Add(result.duplicates);
  }

  Append(source->name, std::move(events), std::move(result), std::move(done));
}

void Engine::Append(std::string source_name, std::shared_ptr<std::vector<Event>> events,
                    IngestResult result, IngestCallback done) {
  // One encoding serves both the log record and the store's buffer.
  auto payload = std::make_shared<std::string>();
  if (!events->empty()) EncodeEventBatch(*events, payload.get());
  size_t bytes = payload->size();
  auto shared_result = std::make_shared<IngestResult>(std::move(result));
  auto shared_done = std::make_shared<IngestCallback>(std::move(done));
  auto forget = [this, events] {
    for (const auto& e : *events) dedupe_->Erase(e.source, e.message_id);
  };
  Status st = log_->Append(*payload, [this, events, payload, shared_result, shared_done, forget,
                                      bytes, source_name](const Status& status, log::Lsn lsn) {
    if (!status.ok()) {
      forget();
      CountRejection("log_error", source_name, events->size());
      shared_result->status = status;
    } else if (!events->empty()) {
      for (const auto& e : *events) dedupe_->Commit(e.source, e.message_id, lsn);
      shared_result->accepted = events->size();
      CountAccepted(source_name, events->size(), bytes);
      ResolveIdentity(events.get(), lsn);
      std::vector<uint32_t> keys;
      keys.reserve(events->size());
      for (const auto& e : *events) keys.push_back(e.identity_key);
      // The store adopts the log's encoding; the keys travel beside it.
      Status added = store_->AddEncodedBatch(std::move(*payload), lsn, std::move(keys));
      if (!added.ok()) {  // cannot happen for our own encoding; keep the data anyway
        spdlog::error("store rejected an encoded batch ({}); re-adding decoded", added.ToString());
        store_->Add(std::vector<Event>(*events), lsn);
      }
      // Only now can a scan see the events; the realtime thread folds them
      // into cached conditions only where a scan has not.
      audiences_->NoteEvents(events, lsn);
    }
    (*shared_done)(std::move(*shared_result));
  });
  if (!st.ok()) {
    forget();
    CountRejection(st.code() == StatusCode::kResourceExhausted ? "backpressure" : "log_error",
                   source_name, events->size());
    shared_result->status = st;
    if (st.code() == StatusCode::kResourceExhausted)
      shared_result->not_appended = std::move(*events);
    (*shared_done)(std::move(*shared_result));
  }
}

void Engine::ResolveIdentity(std::vector<Event>* events, uint64_t lsn) {
  std::lock_guard lock(identity_mu_);
  identity_->Apply(events);
  profiles_->Apply(*events);
  consent_->Apply(*events);
  identity_lsn_ = std::max(identity_lsn_, lsn);
}

bool Engine::Admissible(Event* event, IngestResult* result, ConsentOverlay* overlay,
                        privacy::PiiVault::Pending* pending) {
  const Event& e = *event;
  auto reject = [&](const char* reason, std::string message) {
    result->rejected.push_back({-1, reason, std::move(message)});
    CountRejection(reason, e.source);
    return false;
  };
  if (e.identifiers.empty()) {
    return reject("junk_identity", "event " + e.message_id +
                                       " has no usable identifier (values like \"null\", \"0\" "
                                       "or \"undefined\" are never linked)");
  }
  if (e.type == EventType::kIdentitySplit) {
    return reject("forbidden_type",
                  "event " + e.message_id +
                      ": identity_split is an admin correction "
                      "(POST /api/v1/identity/split), not an event a source sends");
  }
  // Identifiers first: the gate matches them, as the graph and the
  // suppression list hold them, tokenized. Only an admitted event's
  // plaintexts join `pending` (a suppressed identifier's must not come back).
  privacy::PiiVault::Pending own;
  privacy::TokenizeIdentifiers(*vault_, &own, event);
  if (!GateEvent(event, result, overlay)) return false;
  privacy::TokenizePayload(*vault_, &own, event);
  pending->Absorb(std::move(own));
  return true;
}

IngestResult Engine::IngestSync(IngestRequest request) {
  std::promise<IngestResult> promise;
  auto future = promise.get_future();
  Ingest(std::move(request), [&promise](IngestResult r) { promise.set_value(std::move(r)); });
  return future.get();
}

IngestResult Engine::IngestFromSource(const collect::SourceInfo& source,
                                      std::vector<Event> events) {
  auto key = sources_.FindByName(source.name);
  IngestRequest request;
  if (key) request.write_key = key->write_key;
  request.parsed.events = std::move(events);
  if (!key) {
    IngestResult r;
    r.status = Status::NotFound("no source named \"" + source.name + "\"");
    return r;
  }
  // Back-pressure from a local loader: wait and retry what was not appended
  // rather than fail.
  IngestResult total;
  for (;;) {
    IngestResult r = IngestSync(std::move(request));
    total.accepted += r.accepted;
    total.duplicates += r.duplicates;
    total.rejected.insert(total.rejected.end(), std::make_move_iterator(r.rejected.begin()),
                          std::make_move_iterator(r.rejected.end()));
    if (r.status.code() != StatusCode::kResourceExhausted) {
      total.status = r.status;
      return total;
    }
    request = IngestRequest{};
    request.write_key = key->write_key;
    request.parsed.events = std::move(r.not_appended);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

IngestResult Engine::BulkLoad(const collect::SourceInfo& source, std::vector<Event> events) {
  IngestResult result;
  int64_t now = SystemClock::Default()->NowMicros();
  std::vector<Event> fresh;
  fresh.reserve(events.size());
  ConsentOverlay overlay;
  privacy::PiiVault::Pending pii;
  std::shared_lock admit(admit_mu_);
  for (auto& e : events) {
    normalizer_.Normalize(&e, source);
    if (!Admissible(&e, &result, &overlay, &pii)) continue;
    if (!dedupe_->Insert(e.source, e.message_id, now)) {
      ++result.duplicates;
      continue;
    }
    fresh.push_back(std::move(e));
  }
  if (Status sealed = vault_->Commit(&pii); !sealed.ok()) {
    for (const auto& e : fresh) dedupe_->Erase(e.source, e.message_id);
    CountRejection("vault_error", source.name, fresh.size());
    result.status = sealed;
    return result;
  }
  result.accepted = fresh.size();
  CountAccepted(source.name, fresh.size(), 0);
  // The ids stay pending (out of dedupe snapshots) until FinishBulkLoad has
  // flushed the events to segments.
  ResolveIdentity(&fresh, 0);
  store_->Add(std::move(fresh), 0);  // 0: not in the log, leaves the checkpoint alone
  return result;
}

Result<SourceConfig> Engine::AddSource(const std::string& name, const std::string& type) {
  SourceConfig s{name, type, collect::SourceRegistry::NewWriteKey()};
  std::lock_guard lock(sources_mu_);
  if (sources_.FindByName(name))
    return Status::AlreadyExists("a source named \"" + name + "\" already exists");
  RETURN_IF_ERROR(sources_.Add(s));
  RETURN_IF_ERROR(state_->Put(kSourcePrefix + name, SourceToJson(s)));
  return s;
}

Result<SourceConfig> Engine::RotateSourceKey(const std::string& name) {
  std::lock_guard lock(sources_mu_);
  std::optional<SourceConfig> s = sources_.FindByName(name);
  if (!s) return Status::NotFound("no source named \"" + name + "\"");
  for (const auto& configured : config_.sources) {
    if (configured.name == name) {
      return Status::InvalidArgument("source \"" + name +
                                     "\" has its write key in quanyu.toml [[sources]]: change it "
                                     "there and restart");
    }
  }
  s->write_key = collect::SourceRegistry::NewWriteKey();
  // Saved first: a crash before the swap leaves the new key, never a key
  // the caller was not given.
  RETURN_IF_ERROR(state_->Put(kSourcePrefix + name, SourceToJson(*s)));
  RETURN_IF_ERROR(sources_.SetWriteKey(name, s->write_key));
  return *s;
}

std::vector<SourceConfig> Engine::ListSources() const { return sources_.List(); }

std::optional<collect::SourceInfo> Engine::LookupSource(std::string_view write_key) const {
  return sources_.Lookup(write_key);
}

Status Engine::ImportSpend(const std::vector<store::SpendRow>& rows) {
  return spend_->Upsert(rows);
}

Result<std::vector<store::SpendRow>> Engine::ListSpend(const std::string& from_date,
                                                       const std::string& to_date) const {
  return spend_->List(from_date, to_date);
}

Status Engine::ScanEvents(const store::ScanRequest& request, const store::ScanFn& fn) const {
  return store_->Scan(request, fn);
}

Status Engine::FinishBulkLoad() {
  {
    std::lock_guard lock(maintenance_mu_);
    auto barrier = log_->AppendSync("");
    if (!barrier.ok()) return barrier.status();
    ASSIGN_OR_RETURN(uint64_t cp, store_->Flush());
    dedupe_->CommitAllPending(cp);
  }
  // A bulk load touches every day in every flush: merge the small segments
  // now rather than leave them to the background thread.
  RETURN_IF_ERROR(Compact(true).status());
  audiences_->NoteAllChanged();
  return Checkpoint();
}

Result<store::CompactionResult> Engine::Compact(bool full) { return store_->Compact(full); }

Status Engine::Checkpoint() {
  std::lock_guard lock(maintenance_mu_);
  // A barrier makes every append issued before now durable and added.
  auto barrier = log_->AppendSync("");
  if (!barrier.ok()) return barrier.status();
  ASSIGN_OR_RETURN(uint64_t cp, store_->Flush());
  RETURN_IF_ERROR(CheckpointIdentity());
  dedupe_->Expire(SystemClock::Default()->NowMicros());
  RETURN_IF_ERROR(dedupe_->SaveSnapshot(dedupe_path_, cp));
  uint64_t upto = std::min(cp, identity_saved_lsn_.load());
  RETURN_IF_ERROR(log_->TruncateUpTo(upto));
  truncated_lsn_ = upto;
  return Status::OK();
}

Status Engine::CheckpointIdentity() {
  if (identity_write_failed_) {
    return Status::IOError("identity checkpoints stopped after a failed write; restart to recover");
  }
  store::StateWriteBatch batch;
  uint64_t lsn = 0;
  {
    std::lock_guard lock(identity_mu_);
    identity_->WriteDirty(&batch);
    profiles_->WriteDirty(&batch);
    consent_->WriteDirty(&batch);
    lsn = identity_lsn_;
  }
  std::string v;
  PutFixed64(&v, lsn);
  batch.Put(kIdentityLsnKey, std::move(v));
  Status st = state_->Write(batch);
  if (!st.ok()) {
    // The changes just taken are no longer marked dirty, so a later batch
    // would persist a state with holes: stop here and let a restart replay
    // the log from the last good checkpoint.
    identity_write_failed_ = true;
    spdlog::error(
        "identity checkpoint failed ({}); further identity checkpoints stop and the "
        "log is kept from LSN {}",
        st.ToString(), identity_saved_lsn_.load());
    return st;
  }
  identity_saved_lsn_ = lsn;
  return Status::OK();
}

void Engine::MaintenanceLoop() {
  std::unique_lock lock(maintenance_mu_);
  while (!closing_) {
    maintenance_cv_.wait_for(lock, std::chrono::seconds(1));
    if (closing_) break;
    uint64_t cp = store_->CheckpointLsn();
    // The snapshot rewrites every remembered id, so it is taken at most once
    // per checkpoint_interval_s; the log keeps the records until then.
    auto now = std::chrono::steady_clock::now();
    if (cp > truncated_lsn_ &&
        now - last_snapshot_ >= std::chrono::seconds(config_.checkpoint_interval_s)) {
      last_snapshot_ = now;
      // The snapshot must cover every id up to the checkpoint before the
      // log records that would rebuild them are deleted.
      dedupe_->Expire(SystemClock::Default()->NowMicros());
      Status st = CheckpointIdentity();
      if (st.ok()) st = dedupe_->SaveSnapshot(dedupe_path_, cp);
      uint64_t upto = std::min(cp, identity_saved_lsn_.load());
      if (st.ok()) st = log_->TruncateUpTo(upto);
      if (st.ok()) {
        truncated_lsn_ = upto;
      } else {
        spdlog::error("checkpoint failed: {}", st.ToString());
      }
    }
    if ((config_.retention_raw_events_days > 0 || config_.retention_profiles_inactive_days > 0) &&
        now - last_retention_ >= std::chrono::seconds(config_.retention_interval_s)) {
      last_retention_ = now;
      lock.unlock();  // erasing inactive persons checkpoints, which takes maintenance_mu_
      auto dropped = ApplyRetention(SystemClock::Default()->NowMicros());
      lock.lock();
      if (!dropped.ok()) spdlog::error("retention failed: {}", dropped.status().ToString());
    }
    if (deletions_waiting_ && now >= deletion_retry_) {
      deletions_waiting_ = false;
      lock.unlock();  // the deletion checkpoints, which takes maintenance_mu_
      Status st = RunPendingDeletions();
      lock.lock();
      if (!st.ok()) {
        spdlog::error("deletion request: {} (retried in a minute)", st.ToString());
        deletions_waiting_ = true;
        deletion_retry_ = now + std::chrono::minutes(1);
      }
    }
    RefreshAudiences(&lock);
  }
}

void Engine::RefreshAudiences(std::unique_lock<std::mutex>* lock) {
  const auto now = std::chrono::steady_clock::now();
  const bool recompute =
      now - last_recompute_ >= std::chrono::seconds(config_.audience_recompute_interval_s);
  if (!recompute &&
      now - last_refresh_ < std::chrono::seconds(config_.audience_refresh_interval_s)) {
    return;
  }
  last_refresh_ = now;
  if (recompute) last_recompute_ = now;
  lock->unlock();  // Close may wait for this; it must be able to signal
  Status st = recompute ? audiences_->RecomputeTraits() : Status::OK();
  if (!st.ok()) spdlog::error("audience recompute: {}", st.ToString());
  auto changes = audiences_->Refresh(recompute);
  if (!changes.ok()) spdlog::error("audience refresh: {}", changes.status().ToString());
  lock->lock();
}

EngineStats Engine::Stats() const {
  EngineStats s;
  s.store = store_->Stats();
  s.log_durable_lsn = log_->LastDurableLsn();
  s.log_queued_bytes = log_->QueuedBytes();
  s.dedupe_ids = dedupe_->size();
  s.identity = identity_->Stats();
  s.profile_partials = profiles_->size();
  {
    std::lock_guard lock(identity_mu_);
    s.identity_lsn = identity_lsn_;
  }
  return s;
}

Status Engine::Close() {
  if (closing_.exchange(true)) return Status::OK();
  CloseQueries();
  maintenance_cv_.notify_all();
  if (maintenance_.joinable()) maintenance_.join();
  Status result;
  if (log_) log_->Close();  // drains: every queued append completes and reaches the store
  if (audiences_) audiences_->Close();  // handles what the log noted, before the store closes
  if (store_) result = store_->Close();
  if (result.ok() && identity_) result = CheckpointIdentity();
  if (result.ok() && dedupe_ && store_) {
    uint64_t cp = store_->CheckpointLsn();
    result = dedupe_->SaveSnapshot(dedupe_path_, cp);
    if (result.ok()) result = log_->TruncateUpTo(std::min(cp, identity_saved_lsn_.load()));
  }
  return result;
}

}  // namespace quanyu
