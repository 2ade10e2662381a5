// Realtime membership (docs/audiences.md, "Realtime membership") and tags.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "audience/audiences.h"
#include "audience/internal/dependencies.h"
#include "audience/internal/keys.h"
#include "audience/language.h"

namespace quanyu::audience {
namespace {

constexpr size_t kMaxChangesPerBatch = 50'000;  // state-DB writes per batch

bool NamesOnly(EventType t) {
  return t == EventType::kTrack || t == EventType::kPage || t == EventType::kScreen;
}

std::string TagKey(const std::string& category, const std::string& name) {
  return "au/t/" + category + std::string(1, '\0') + name;
}

Json TagJson(const TagRecord& t) {
  Json j{{"category", t.category}, {"name", t.name}, {"description", t.description}};
  if (t.is_list) {
    j["identifiers"] = t.identifiers;
  } else {
    j["rule"] = PrintText(t.rule);
  }
  return j;
}

Json ChangeJson(const MembershipChange& c) {
  return Json{{"seq", c.seq},
              {"one_id", c.one_id},
              {"audience", c.audience},
              {"type", c.entered ? "audience_entered" : "audience_exited"},
              {"time_us", c.time_us}};
}

Result<MembershipChange> ChangeFromJson(std::string_view bytes) {
  Json j = Json::parse(bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("membership change record");
  MembershipChange c;
  try {
    c.seq = j.value("seq", uint64_t{0});
    c.one_id = j.value("one_id", uint32_t{0});
    c.audience = j.value("audience", "");
    c.entered = j.value("type", "") == "audience_entered";
    c.time_us = j.value("time_us", int64_t{0});
  } catch (const Json::exception& e) {
    return Status::Corruption(std::string("membership change record: ") + e.what());
  }
  return c;
}

}  // namespace

void Audiences::NoteEvents(std::shared_ptr<const std::vector<Event>> events, uint64_t lsn) {
  if (!events || events->empty()) return;
  bool wholesale = false;
  AudienceEvaluator::MergeList merges;
  {
    std::unique_lock lock(mu_);
    tags_dirty_ = true;
    // The batch's identifiers may have merged persons: the realtime thread
    // moves what cached conditions hold of each absorbed person to its
    // survivor. A rebuild (unbind, split) or a forgotten merge cannot be
    // followed person by person: then everything is re-evaluated.
    if (src_.graph->remaps() != seen_remaps_) {
      uint64_t upto = 0;
      auto steps = src_.graph->MergesSince(seen_remaps_, &upto);
      seen_remaps_ = upto;
      if (steps) {
        for (const auto& m : *steps) merges.emplace_back(m.survivor, m.absorbed);
      } else {
        wholesale = true;
      }
    }
  }
  std::lock_guard q(queue_mu_);
  rt_stats_.rebuilds += wholesale;
  rt_stats_.merges += merges.size();
  if (!wholesale && queued_events_ + events->size() > kMaxQueuedEvents) {
    ++rt_stats_.overflows;  // the realtime thread is behind: refresh everything instead
    wholesale = true;
  }
  if (wholesale) {
    // The batches queued so far are in the store; Refresh re-evaluates
    // everyone with them.
    version_.fetch_add(1);
    queue_.clear();
    queued_events_ = 0;
    handled_ = noted_;
    idle_cv_.notify_all();
    std::unique_lock lock(mu_);
    all_dirty_ = true;
    return;
  }
  queued_events_ += events->size();
  queue_.push_back({std::move(events), lsn, std::move(merges)});
  ++noted_;
  queue_cv_.notify_one();
}

void Audiences::WaitForRealtime() {
  std::unique_lock q(queue_mu_);
  const uint64_t target = noted_;
  idle_cv_.wait(q, [&] { return handled_ >= target || closing_; });
}

Audiences::RealtimeStats Audiences::realtime_stats() const {
  std::lock_guard q(queue_mu_);
  return rt_stats_;
}

void Audiences::Close() {
  {
    std::lock_guard q(queue_mu_);
    if (closing_) return;
    closing_ = true;
  }
  queue_cv_.notify_all();
  if (realtime_.joinable()) realtime_.join();
  idle_cv_.notify_all();
}

void Audiences::RealtimeLoop() {
  std::unique_lock q(queue_mu_);
  while (true) {
    queue_cv_.wait(q, [&] { return closing_ || !queue_.empty(); });
    if (queue_.empty()) return;  // closing, and nothing left to handle
    std::vector<Noted> batches;
    batches.swap(queue_);
    queued_events_ = 0;
    const uint64_t upto = noted_;
    q.unlock();
    Status st = HandleBatches(batches);
    if (!st.ok()) {  // e.g. the state DB failed: Refresh tries everything again
      spdlog::error("realtime audience membership: {}", st.ToString());
      version_.fetch_add(1);
      std::unique_lock lock(mu_);
      all_dirty_ = true;
    }
    q.lock();
    handled_ = std::max(handled_, upto);
    idle_cv_.notify_all();
  }
}

std::vector<AudienceRecord> Audiences::AffectedBy(const std::vector<Noted>& batches) const {
  std::set<std::string_view> names;
  bool traits = false, consent = false;
  for (const Noted& b : batches) {
    traits |= !b.merges.empty();  // the merged persons' every condition may change
    for (const Event& e : *b.events) {
      // Consent rides on any event (context.consent, "$consent"): the same
      // cheap test the ledger's reader starts with.
      consent = consent || e.context_json.find("\"consent\"") != std::string::npos ||
                e.properties_json.find("\"$consent\"") != std::string::npos ||
                e.traits_json.find("\"$consent\"") != std::string::npos;
      if (NamesOnly(e.type)) {
        names.insert(e.name);
      } else {
        traits = true;  // identify / alias / profile_* / corrections: traits may change
      }
    }
  }
  std::vector<AudienceRecord> out;
  std::shared_lock lock(mu_);
  for (const auto& [name, r] : audiences_) {
    const Node& def = r.definition;
    bool affected = traits || !ReferencedAudiences(def).empty() ||
                    internal::AdmitsNewPersons(def) || (consent && internal::UsesConsent(def));
    for (const auto& e : ReferencedEvents(def)) {
      if (affected) break;
      affected = names.count(e) > 0;
    }
    if (affected) out.push_back(r);
  }
  return out;
}

Status Audiences::HandleBatches(const std::vector<Noted>& batches) {
  const EvalContext ctx = Context();
  Roaring persons;
  size_t events = 0;
  for (const Noted& b : batches) {
    ASSIGN_OR_RETURN(Roaring p, evaluator_.Apply(*b.events, b.lsn, b.merges, ctx));
    persons |= p;
    events += b.events->size();
  }
  size_t evaluations = 0, changes = 0;
  if (!persons.isEmpty()) {
    std::lock_guard refresh(refresh_mu_);
    for (const AudienceRecord& r : AffectedBy(batches)) {
      auto members = evaluator_.Evaluate(r.definition, ctx, &persons);
      if (!members.ok()) {  // e.g. an attribute not computed yet: Refresh tries again
        std::unique_lock lock(mu_);
        if (audiences_.count(r.name)) dirty_.insert(r.name);
        continue;
      }
      evaluations += persons.cardinality();
      ASSIGN_OR_RETURN(size_t n, RecordChanges(r.name, *members, &persons));
      changes += n;
    }
  }
  std::lock_guard q(queue_mu_);
  ++rt_stats_.rounds;
  rt_stats_.batches += batches.size();
  rt_stats_.events += events;
  rt_stats_.person_evaluations += evaluations;
  rt_stats_.changes += changes;
  return Status::OK();
}

void Audiences::NoteAllChanged() {
  version_.fetch_add(1);
  {
    std::lock_guard q(queue_mu_);
    queue_.clear();  // in the store already; Refresh re-evaluates everyone
    queued_events_ = 0;
    handled_ = noted_;
    idle_cv_.notify_all();
  }
  std::unique_lock lock(mu_);
  seen_remaps_ = src_.graph->remaps();
  all_dirty_ = true;
  tags_dirty_ = true;
}

Result<Roaring> Audiences::SavedMembers(const std::string& key) const {
  auto bytes = src_.state->Get("au/m/" + key);
  if (!bytes.ok()) return bytes.status();
  try {
    return Roaring::readSafe(bytes->data(), bytes->size());
  } catch (const std::exception& e) {
    return Status::Corruption("membership of \"" + key + "\": " + e.what());
  }
}

Result<size_t> Audiences::RecordChanges(const std::string& key, const Roaring& now,
                                        const Roaring* scope) {
  std::shared_ptr<const Roaring> saved;
  {
    std::shared_lock lock(mu_);
    if (auto it = saved_.find(key); it != saved_.end()) saved = it->second;
  }
  if (!saved) {
    auto bits = SavedMembers(key);
    if (!bits.ok() && bits.status().code() != StatusCode::kNotFound) return bits.status();
    if (bits.ok()) saved = std::make_shared<const Roaring>(std::move(*bits));
  }
  if (!saved && scope) return 0;  // no baseline yet: Refresh records it
  Roaring next = now;
  Roaring entered, exited;
  if (saved) {  // without a saved membership, `now` is the baseline
    if (scope) {
      next = *saved - *scope;
      next |= now;
    }
    entered = next - *saved;
    exited = *saved - next;
    if (scope && entered.isEmpty() && exited.isEmpty()) return 0;
  }
  size_t changes = 0;
  store::StateWriteBatch batch;
  const int64_t at = src_.clock->NowMicros();
  auto emit = [&](uint32_t id, bool in) -> Status {
    MembershipChange c{++seq_, id, key, in, at};
    std::string feed = "au/c/", person = "au/h/";
    internal::PutBigEndian64(&feed, c.seq);
    internal::PutBigEndian32(&person, id);
    internal::PutBigEndian64(&person, c.seq);
    const std::string j = ChangeJson(c).dump();
    batch.Put(feed, j);
    batch.Put(person, j);
    ++changes;
    if (batch.size() >= 2 * kMaxChangesPerBatch) {
      RETURN_IF_ERROR(src_.state->Write(batch));
      batch = store::StateWriteBatch();
    }
    return Status::OK();
  };
  for (uint32_t id : entered) RETURN_IF_ERROR(emit(id, true));
  for (uint32_t id : exited) RETURN_IF_ERROR(emit(id, false));
  next.runOptimize();
  std::string bits(next.getSizeInBytes(), '\0');
  next.write(bits.data());
  batch.Put("au/m/" + key, std::move(bits));
  RETURN_IF_ERROR(src_.state->Write(batch));
  std::unique_lock lock(mu_);
  saved_[key] = std::make_shared<const Roaring>(std::move(next));
  return changes;
}

Result<size_t> Audiences::Refresh(bool full) {
  WaitForRealtime();  // not under refresh_mu_: the realtime thread may need it
  std::lock_guard refresh(refresh_mu_);
  std::vector<AudienceRecord> todo;
  std::vector<TagRecord> tags;
  {
    std::unique_lock lock(mu_);
    const bool all = full || all_dirty_;
    for (const auto& [name, r] : audiences_) {
      if (all || dirty_.count(name)) todo.push_back(r);
    }
    if (all || tags_dirty_) {
      for (const auto& [key, t] : tags_) tags.push_back(t);
    }
    dirty_.clear();
    all_dirty_ = false;
    tags_dirty_ = false;
  }
  size_t changes = 0;
  for (const AudienceRecord& r : todo) {
    auto members = EvaluateNow(r.definition);
    if (!members.ok()) {  // e.g. an attribute not computed yet: tried again next time
      std::unique_lock lock(mu_);
      if (audiences_.count(r.name)) dirty_.insert(r.name);
      continue;
    }
    ASSIGN_OR_RETURN(size_t n, RecordChanges(r.name, *members));
    changes += n;
  }
  for (const TagRecord& t : tags) {
    auto members = TagMembersNow(t);
    if (!members.ok()) continue;
    const std::string key = "tag:" + t.category + "/" + t.name;
    ASSIGN_OR_RETURN(size_t n, RecordChanges(key, *members));
    changes += n;
  }
  return changes;
}

Result<std::vector<MembershipChange>> Audiences::Changes(uint64_t after, size_t limit) const {
  if (after == UINT64_MAX) return std::vector<MembershipChange>{};  // nothing can follow
  std::string start = "au/c/";
  internal::PutBigEndian64(&start, after + 1);
  std::vector<MembershipChange> out;
  bool enough = false;
  Status st = src_.state->Scan(start, "au/c0", [&](std::string_view, std::string_view v) {
    if (out.size() >= limit) {
      enough = true;
      return Status::ResourceExhausted("page full");
    }
    ASSIGN_OR_RETURN(MembershipChange c, ChangeFromJson(v));
    out.push_back(std::move(c));
    return Status::OK();
  });
  if (!st.ok() && !enough) return st;
  return out;
}

std::vector<std::string> Audiences::MembershipsOf(uint32_t one_id) const {
  std::vector<std::string> out;
  std::shared_lock lock(mu_);
  for (const auto& [name, r] : audiences_) {
    auto it = saved_.find(name);
    if (it != saved_.end() && it->second->contains(one_id)) out.push_back(name);
  }
  return out;
}

Result<std::vector<MembershipChange>> Audiences::History(uint32_t one_id) const {
  std::string prefix = "au/h/";
  internal::PutBigEndian32(&prefix, one_id);
  std::vector<MembershipChange> out;
  RETURN_IF_ERROR(src_.state->ScanPrefix(prefix, [&](std::string_view, std::string_view v) {
    ASSIGN_OR_RETURN(MembershipChange c, ChangeFromJson(v));
    out.push_back(std::move(c));
    return Status::OK();
  }));
  return out;
}

// ---- Deletion -------------------------------------------------------------------

Status Audiences::EraseMembershipOf(const Roaring& gone, store::StateWriteBatch* batch) const {
  // Every saved membership in the state DB, tags' included (saved_ holds
  // only those recorded or loaded since the open).
  RETURN_IF_ERROR(src_.state->ScanPrefix("au/m/", [&](std::string_view k, std::string_view v) {
    Roaring bits;
    try {
      bits = Roaring::readSafe(v.data(), v.size());
    } catch (const std::exception& e) {
      return Status::Corruption("membership under \"" + std::string(k) + "\": " + e.what());
    }
    if (!bits.intersect(gone)) return Status::OK();
    bits -= gone;
    bits.runOptimize();
    std::string bytes(bits.getSizeInBytes(), '\0');
    bits.write(bytes.data());
    batch->Put(std::string(k), std::move(bytes));
    return Status::OK();
  }));
  // Their changes, found through their history: each au/h key ends with
  // the SEQ of the same change in the feed.
  bool erased = false;
  for (uint32_t id : gone) {
    std::string prefix = "au/h/";
    internal::PutBigEndian32(&prefix, id);
    RETURN_IF_ERROR(src_.state->ScanPrefix(prefix, [&](std::string_view k, std::string_view) {
      if (k.size() != prefix.size() + 8) return Status::Corruption("membership history key");
      batch->Delete("au/c/" + std::string(k.substr(prefix.size())));
      batch->Delete(std::string(k));
      erased = true;
      return Status::OK();
    }));
  }
  if (erased) {  // the newest change may go: its SEQ must not be handed out again
    std::string last;
    internal::PutBigEndian64(&last, seq_);
    batch->Put(std::string(internal::kLastSeqKey), std::move(last));
  }
  return Status::OK();
}

void Audiences::ForgetMembershipOf(const Roaring& gone) {
  for (auto& [key, bits] : saved_) {
    if (bits->intersect(gone)) bits = std::make_shared<const Roaring>(*bits - gone);
  }
}

// ---- Tags ---------------------------------------------------------------------

Status Audiences::LoadTags() {
  return src_.state->ScanPrefix("au/t/", [&](std::string_view, std::string_view v) {
    Json j = Json::parse(v, nullptr, false);
    if (j.is_discarded()) return Status::Corruption("tag record");
    TagRecord t;
    try {
      t.category = j.value("category", "");
      t.name = j.value("name", "");
      t.description = j.value("description", "");
      if (j.contains("identifiers")) {
        t.is_list = true;
        t.identifiers = j["identifiers"].get<std::vector<std::string>>();
      } else {
        ASSIGN_OR_RETURN(t.rule, ParseText(j.value("rule", "")));
      }
    } catch (const Json::exception& e) {
      return Status::Corruption(std::string("tag record: ") + e.what());
    }
    tags_[{t.category, t.name}] = std::move(t);
    return Status::OK();
  });
}

Result<TagRecord> Audiences::PutTag(TagRecord tag) {
  auto valid = [](const std::string& s) {
    return !s.empty() && s.size() <= 128 && s.find('\0') == std::string::npos &&
           s.find('/') == std::string::npos;
  };
  if (!valid(tag.category) || !valid(tag.name)) {
    return Status::InvalidArgument(
        "a tag needs a category and a name of 1 to 128 bytes without '/'");
  }
  if (!tag.is_list) {
    std::shared_lock lock(mu_);
    RETURN_IF_ERROR(CheckReferences("", tag.rule));
  }
  RETURN_IF_ERROR(src_.state->Put(TagKey(tag.category, tag.name), TagJson(tag).dump()));
  std::unique_lock lock(mu_);
  tags_[{tag.category, tag.name}] = tag;
  all_dirty_ = true;
  return tag;
}

Status Audiences::DeleteTag(const std::string& category, const std::string& name) {
  std::lock_guard recording(refresh_mu_);  // as Delete
  std::unique_lock lock(mu_);
  if (!tags_.erase({category, name})) {
    return Status::NotFound("no tag \"" + name + "\" in category \"" + category + "\"");
  }
  RETURN_IF_ERROR(src_.state->Delete("au/m/tag:" + category + "/" + name));
  saved_.erase("tag:" + category + "/" + name);
  return src_.state->Delete(TagKey(category, name));
}

std::vector<TagRecord> Audiences::ListTags() const {
  std::shared_lock lock(mu_);
  std::vector<TagRecord> out;
  for (const auto& [key, t] : tags_) out.push_back(t);
  return out;
}

Result<Roaring> Audiences::TagMembers(const TagRecord& tag) {
  WaitForRealtime();
  return TagMembersNow(tag);
}

Result<Roaring> Audiences::TagMembersNow(const TagRecord& tag) {
  if (!tag.is_list) return EvaluateNow(tag.rule);
  // Uploaded identifiers resolve to whoever holds them now.
  Roaring out;
  for (const std::string& text : tag.identifiers) {
    const size_t colon = text.find(':');
    if (colon == std::string::npos) continue;
    Identifier id;
    id.ns = text.substr(0, colon);
    id.value = text.substr(colon + 1);
    if (const size_t scoped = id.value.find(':');
        scoped != std::string::npos &&
        (id.ns == "wechat_openid" || id.ns == "douyin_openid" || id.ns == "wechat_unionid" ||
         id.ns == "douyin_unionid" || id.ns == "wecom_external_userid")) {
      id.scope = id.value.substr(0, scoped);
      id.value = id.value.substr(scoped + 1);
    }
    if (const uint32_t p = src_.graph->Lookup(id); p != 0) out.add(p);
  }
  return out;
}

Result<std::vector<std::string>> Audiences::TagsOf(uint32_t one_id) {
  std::vector<std::string> out;
  for (const TagRecord& t : ListTags()) {
    auto members = TagMembers(t);
    if (members.ok() && members->contains(one_id)) out.push_back(t.category + "/" + t.name);
  }
  return out;
}

}  // namespace quanyu::audience
