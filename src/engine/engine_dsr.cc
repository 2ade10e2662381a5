// Data-subject requests (docs/privacy.md): access, deletion, correction and
// consent withdrawal, carried out across identity, profiles, consent,
// audiences, the log and the store, and recorded in the request queue.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>

#include "collect/segment_writer.h"
#include "common/clock.h"
#include "common/crash_point.h"
#include "common/json_text.h"
#include "common/time_util.h"
#include "engine/engine.h"

namespace quanyu {
namespace {

using query::Json;

constexpr size_t kAccessPage = 1000;  // timeline events read per page

}  // namespace

Json Engine::RequestJson(const privacy::DataSubjectRequest& r, int64_t now_us) {
  Json j{{"id", r.id},
         {"type", privacy::RequestTypeName(r.type)},
         {"regime", privacy::RegimeName(r.regime)},
         {"status", privacy::RequestStatusName(r.status)},
         {"subject", {{"namespace", r.subject_namespace}, {"hash", r.subject_hash}}},
         {"one_id", r.one_id ? Json(r.one_id) : Json(nullptr)},
         {"received_at", FormatTimestamp(r.received_us)},
         {"deadline", FormatTimestamp(r.deadline_us)},
         {"completed_at", r.completed_us ? Json(FormatTimestamp(r.completed_us)) : Json(nullptr)},
         {"outcome", r.outcome}};
  const bool open =
      r.status == privacy::RequestStatus::kPending || r.status == privacy::RequestStatus::kRunning;
  j["overdue"] = open && now_us > r.deadline_us;
  return j;
}

Result<Json> Engine::PersonalData(uint32_t one_id) const {
  Json data;
  ASSIGN_OR_RETURN(std::string profile, ProfileJson(one_id));
  ASSIGN_OR_RETURN(std::string identity, IdentityJson(one_id));
  data["profile"] = Json::parse(profile, nullptr, false);
  data["identity"] = Json::parse(identity, nullptr, false);
  data["consent"] = Json::parse(ConsentJson(ConsentOf(one_id)), nullptr, false);
  // Every event of every identifier, newest first.
  std::string events = "[";
  size_t n = 0;
  std::string cursor;
  do {
    ASSIGN_OR_RETURN(TimelinePage page, PersonEvents(one_id, cursor, kAccessPage));
    for (const auto& e : page.events) {
      if (n++) events.push_back(',');
      collect::AppendSegmentJson(e, &events);
    }
    cursor = page.next_cursor;
  } while (!cursor.empty());
  events.push_back(']');
  data["events"] = Json::parse(events, nullptr, false);
  return data;
}

Result<Json> Engine::DataSubjectRequest(privacy::RequestType type, privacy::Regime regime,
                                        std::string_view identifier, const Json& detail) {
  privacy::PiiVault::Pending keep;  // committed only if an event records the identifier
  ASSIGN_OR_RETURN(Identifier id, ParseIdentifier(identifier, &keep));
  // What each type needs is checked before anything is queued.
  std::string traits, consent;
  if (type == privacy::RequestType::kCorrect) {
    if (!detail.is_object() || detail.empty()) {
      return Status::InvalidArgument(
          "a correction needs \"traits\": an object of the corrected values, e.g. "
          "{\"city\": \"上海\"}");
    }
    traits = detail.dump(-1, ' ', false, Json::error_handler_t::replace);
  } else if (type == privacy::RequestType::kWithdraw) {
    Json c = detail.is_object() && !detail.empty() ? detail : Json::object();
    if (c.empty()) {
      for (int i = 0; i < privacy::kTopicCount; ++i) {
        auto t = static_cast<privacy::Topic>(i);
        c[privacy::IsPurpose(t) ? "purposes" : "channels"][std::string(privacy::TopicName(t))] =
            "withdrawn";
      }
    }
    c["source"] = "data_subject_request";
    consent = c.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  const int64_t now = SystemClock::Default()->NowMicros();
  const std::string hash = privacy::Hex(privacy::KeyedHash(*keys_, "dsr", id.ToString()));
  const uint32_t person = identity_->Lookup(id);
  ASSIGN_OR_RETURN(privacy::DataSubjectRequest r,
                   requests_->Add(type, regime, id.ns, hash, person, now));
  if (type == privacy::RequestType::kDelete) {
    // From here on the identifier named and the person's identifiers are
    // suppressed; the erasure runs on the maintenance thread.
    std::vector<identity::IdentKey> keys;
    if (person != 0) keys = identity_->KeysOf(person);
    Status st = [&]() -> Status {
      {
        std::unique_lock admit(admit_mu_);
        RETURN_IF_ERROR(suppressed_->Add({suppressed_->HashOf(id)}, r.id));
      }
      RETURN_IF_ERROR(SuppressKeys(keys, r.id));
      r.status = privacy::RequestStatus::kRunning;
      return requests_->Update(r);
    }();
    if (!st.ok()) {
      r.status = privacy::RequestStatus::kFailed;
      r.completed_us = SystemClock::Default()->NowMicros();
      r.outcome = "failed before anything was erased: " + std::string(StatusCodeName(st.code()));
      (void)requests_->Update(r);
      return st;
    }
    CrashPoint("delete:suppressed");
    deletions_waiting_ = true;
    maintenance_cv_.notify_all();
    Json answer;
    answer["request"] = RequestJson(r, SystemClock::Default()->NowMicros());
    return answer;
  }

  Json answer;
  Status done = [&]() -> Status {
    switch (type) {
      case privacy::RequestType::kAccess: {
        if (person == 0) {
          r.outcome = "no personal data held for this identifier";
          answer["data"] = nullptr;
          return Status::OK();
        }
        ASSIGN_OR_RETURN(Json data, PersonalData(person));
        r.outcome = "sent " + std::to_string(data["events"].size()) + " events, " +
                    std::to_string(data["identity"]["identifiers"].size()) +
                    " identifiers, the profile and the consent ledger";
        answer["data"] = std::move(data);
        return Status::OK();
      }
      case privacy::RequestType::kCorrect: {
        if (person == 0) return Status::NotFound("no person holds " + id.ToString());
        Event e;
        e.type = EventType::kIdentify;
        e.traits_json = traits;
        e.identifiers.push_back(id);
        ASSIGN_OR_RETURN(std::string message_id, AppendCorrection(std::move(e), &keep));
        r.outcome =
            "corrected " + std::to_string(detail.size()) + " traits (event " + message_id + ")";
        return Status::OK();
      }
      case privacy::RequestType::kWithdraw: {
        ASSIGN_OR_RETURN(std::string message_id, RecordConsent(identifier, consent));
        r.outcome = "consent withdrawn (event " + message_id + ")";
        return Status::OK();
      }
      case privacy::RequestType::kDelete:
        break;  // handled above
    }
    return Status::Internal("unreachable request type");
  }();
  r.completed_us = SystemClock::Default()->NowMicros();
  r.status = done.ok() ? privacy::RequestStatus::kCompleted : privacy::RequestStatus::kFailed;
  if (!done.ok()) {
    // The queue keeps no personal data: not the error's text, which may
    // name the identifier.
    r.outcome = done.code() == StatusCode::kNotFound
                    ? "failed: no person holds the identifier"
                    : "failed: " + std::string(StatusCodeName(done.code()));
  }
  RETURN_IF_ERROR(requests_->Update(r));
  if (!done.ok()) return done;
  answer["request"] = RequestJson(r, r.completed_us);
  return answer;
}

Status Engine::SuppressKeys(const std::vector<identity::IdentKey>& keys,
                            const std::string& request_id) {
  std::vector<privacy::SuppressionList::Hash> hashes;
  hashes.reserve(keys.size());
  for (identity::IdentKey k : keys) {
    const std::string text = identity_->KeyToString(k);
    if (!text.empty()) hashes.push_back(suppressed_->HashOf(text));
  }
  {
    std::unique_lock admit(admit_mu_);
    RETURN_IF_ERROR(suppressed_->Add(hashes, request_id));
  }
  // Events that passed the gate before are in the log queue: wait until
  // they are durable and applied (identity, profiles, store).
  return log_->AppendSync("").status();
}

Status Engine::RunPendingDeletions() {
  std::lock_guard lock(deletion_mu_);
  ASSIGN_OR_RETURN(std::vector<privacy::DataSubjectRequest> all, requests_->List());
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.received_us < b.received_us; });
  for (auto& r : all) {
    if (r.type != privacy::RequestType::kDelete) continue;
    if (r.status != privacy::RequestStatus::kPending &&
        r.status != privacy::RequestStatus::kRunning)
      continue;
    if (suppressed_->OfRequest(r.id).empty()) {
      // Stopped between queueing and suppressing: nothing was erased, and
      // the identifier is known only by its hash, so it cannot go on.
      r.status = privacy::RequestStatus::kFailed;
      r.completed_us = SystemClock::Default()->NowMicros();
      r.outcome = "interrupted before anything was erased; nothing was deleted: send it again";
      RETURN_IF_ERROR(requests_->Update(r));
      continue;
    }
    spdlog::info("deletion request {}: erasing", r.id);
    RETURN_IF_ERROR(CarryOutDeletion(&r));
  }
  return Status::OK();
}

Status Engine::CarryOutDeletion(privacy::DataSubjectRequest* r) {
  // 1. Who: the person the request named (and whoever it merged into
  // since), plus every identifier whose keyed hash is suppressed — after a
  // restart that is the only way to find them, the plaintext being gone.
  // (One keyed hash per identifier held: about a second per million.)
  audiences_->WaitForRealtime();
  uint32_t person = r->one_id ? identity_->Resolve(r->one_id) : 0;
  std::vector<identity::IdentKey> keys;
  if (person != 0) keys = identity_->KeysOf(person);
  identity_->ForEachIdentifier([&](identity::IdentKey k, const std::string& text) {
    if (suppressed_->Contains(suppressed_->HashOf(text))) keys.push_back(k);
  });
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  // Identifiers linked since the request came in are suppressed too.
  RETURN_IF_ERROR(SuppressKeys(keys, r->id));
  // Whoever holds a suppressed identifier now is erased with it (after a
  // split or a restart that may be more than one one_id).
  std::vector<uint32_t> persons;
  if (person != 0) persons.push_back(person);
  for (identity::IdentKey k : keys) {
    const uint32_t p = identity_->one_ids().Get(k);
    if (p != 0 && std::find(persons.begin(), persons.end(), p) == persons.end())
      persons.push_back(p);
  }

  ASSIGN_OR_RETURN(
      store::EraseResult erased,
      EraseData(persons, keys, [this](const Identifier& id) { return suppressed_->Matches(id); }));

  r->status = privacy::RequestStatus::kCompleted;
  r->completed_us = SystemClock::Default()->NowMicros();
  r->outcome = "erased " + std::to_string(erased.rows_erased) + " stored events (" +
               std::to_string(erased.segments_rewritten) + " segments rewritten), " +
               std::to_string(keys.size()) +
               " identifiers, the profile, consent records and audience memberships; " +
               std::to_string(suppressed_->OfRequest(r->id).size()) +
               " keyed hashes kept on the suppression list";
  spdlog::info("deletion request {}: {}", r->id, r->outcome);
  return requests_->Update(*r);
}

Result<store::EraseResult> Engine::EraseData(const std::vector<uint32_t>& persons,
                                             const std::vector<identity::IdentKey>& keys,
                                             std::function<bool(const Identifier&)> carrying) {
  // 1. The store: every row of those keys or carrying a named identifier is
  // rewritten out of its segment; their message ids leave the dedupe window.
  store::EraseRequest erase;
  erase.identity_keys = keys;
  erase.identifier_matches = carrying;
  std::vector<std::pair<std::string, std::string>> message_ids;
  // The vault records of every token in the persons' identifiers, profiles
  // and erased events go before the rewrite is committed, so a run resumed
  // after a crash still finds them all.
  std::vector<std::string> tokens;
  for (uint32_t p : persons) {
    if (auto profile = ProfileJson(p); profile.ok()) privacy::CollectPiiTokens(*profile, &tokens);
  }
  erase.on_erased = [&](const Event& e) {
    message_ids.emplace_back(e.source, e.message_id);
    privacy::CollectPiiTokens(e, &tokens);
  };
  erase.before_commit = [&]() -> Status {
    std::sort(tokens.begin(), tokens.end());
    tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
    return vault_->Erase(tokens);
  };
  ASSIGN_OR_RETURN(store::EraseResult erased, store_->EraseRows(erase));
  for (const auto& [source, id] : message_ids) dedupe_->Erase(source, id);
  CrashPoint("delete:store");

  // 2. The log: a new file, then a checkpoint deletes every file before it
  // (the store and the identity state now cover them).
  RETURN_IF_ERROR(log_->RollSync().status());
  RETURN_IF_ERROR(Checkpoint());
  CrashPoint("delete:log");

  // 3. Profile partials, consent, audiences, then the identity graph last:
  // until it forgets them, a resumed run can still find the keys.
  {
    std::lock_guard lock(identity_mu_);
    profiles_->Erase(keys);
    consent_->Erase(keys);
  }
  RETURN_IF_ERROR(audiences_->ErasePersons(persons));
  RETURN_IF_ERROR(EraseFromListTags(persons, carrying));
  CrashPoint("delete:profile");
  std::vector<identity::IdentityGraph::ErasedPerson> gone;
  {
    std::lock_guard lock(identity_mu_);
    gone = identity_->ErasePersons(persons);
  }
  // Again with the aliases: a refresh between the two calls may have added
  // the persons back (through a NOT condition, say) while they still had
  // identifiers.
  std::vector<uint32_t> again = persons;
  for (const auto& g : gone) again.insert(again.end(), g.aliases.begin(), g.aliases.end());
  RETURN_IF_ERROR(audiences_->ErasePersons(again));
  {
    std::lock_guard lock(maintenance_mu_);
    RETURN_IF_ERROR(CheckpointIdentity());
  }
  CrashPoint("delete:identity");

  // 4. RocksDB keeps old values in table and log files until they are
  // rewritten: compact everything, so the state directory holds none.
  RETURN_IF_ERROR(state_->CompactAll());
  CrashPoint("delete:compact");
  return erased;
}

Status Engine::EraseFromListTags(const std::vector<uint32_t>& persons,
                                 const std::function<bool(const Identifier&)>& carrying) {
  std::vector<uint32_t> sorted = persons;
  std::sort(sorted.begin(), sorted.end());
  for (audience::TagRecord tag : audiences_->ListTags()) {
    if (!tag.is_list) continue;
    const size_t before = tag.identifiers.size();
    std::erase_if(tag.identifiers, [&](const std::string& text) {
      auto id = ParseIdentifier(text);
      if (!id.ok()) return false;  // never linked to anyone
      if (carrying && carrying(*id)) return true;
      const uint32_t p = identity_->Lookup(*id);
      return p != 0 && std::binary_search(sorted.begin(), sorted.end(), p);
    });
    if (tag.identifiers.size() != before) RETURN_IF_ERROR(audiences_->PutTag(tag).status());
  }
  return Status::OK();
}

Result<Engine::InactiveErasure> Engine::EraseInactivePersons(int64_t cutoff_us) {
  std::lock_guard lock(deletion_mu_);
  audiences_->WaitForRealtime();
  // A person's last activity: the newest last_seen over their keys.
  std::unordered_map<uint32_t, int64_t> last;
  const auto& one_ids = identity_->one_ids();
  profiles_->ForEach([&](identity::IdentKey k, const identity::PartialProfile& partial) {
    const uint32_t p = one_ids.Get(k);
    if (p == 0) return;
    int64_t& t = last[p];
    t = std::max(t, partial.last_seen_us());
  });
  std::vector<uint32_t> persons;
  for (const auto& [p, t] : last) {
    if (t < cutoff_us) persons.push_back(p);
  }
  std::sort(persons.begin(), persons.end());
  InactiveErasure result;
  if (persons.empty()) return result;
  std::vector<identity::IdentKey> keys;
  for (uint32_t p : persons) {
    auto k = identity_->KeysOf(p);
    keys.insert(keys.end(), k.begin(), k.end());
  }
  std::sort(keys.begin(), keys.end());
  ASSIGN_OR_RETURN(store::EraseResult erased, EraseData(persons, keys, nullptr));
  result.persons = persons.size();
  result.events = erased.rows_erased;
  return result;
}

}  // namespace quanyu
