// Data-subject requests (docs/privacy.md): access, correction and consent
// withdrawal, carried out across identity, profiles, consent and the store,
// and recorded in the request queue.
#include "collect/segment_writer.h"
#include "common/clock.h"
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
  if (type == privacy::RequestType::kDelete) {
    return Status::InvalidArgument(
        "deletion requests are not built yet (docs/privacy.md, \"Data-subject requests\"); "
        "access, correct and withdraw are");
  }
  ASSIGN_OR_RETURN(Identifier id, ParseIdentifier(identifier));
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
        ASSIGN_OR_RETURN(std::string message_id, AppendCorrection(std::move(e)));
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
        break;
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

}  // namespace quanyu
