#include "privacy/requests.h"

#include <openssl/rand.h>

#include <nlohmann/json.hpp>

namespace quanyu::privacy {
namespace {

using nlohmann::json;

constexpr std::string_view kPrefix = "dsr/";
constexpr int64_t kMicrosPerDay = int64_t{86400} * 1'000'000;

json ToJson(const DataSubjectRequest& r) {
  return json{{"id", r.id},
              {"type", RequestTypeName(r.type)},
              {"regime", RegimeName(r.regime)},
              {"status", RequestStatusName(r.status)},
              {"subject_namespace", r.subject_namespace},
              {"subject_hash", r.subject_hash},
              {"one_id", r.one_id},
              {"received_us", r.received_us},
              {"deadline_us", r.deadline_us},
              {"completed_us", r.completed_us},
              {"outcome", r.outcome}};
}

Result<DataSubjectRequest> FromJson(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  DataSubjectRequest r;
  try {
    if (!j.is_object()) throw std::runtime_error("not an object");
    r.id = j.at("id").get<std::string>();
    auto type = RequestTypeNamed(j.at("type").get<std::string>());
    auto regime = RegimeNamed(j.at("regime").get<std::string>());
    if (!type.ok() || !regime.ok()) throw std::runtime_error("bad type or regime");
    r.type = *type;
    r.regime = *regime;
    const std::string status = j.at("status").get<std::string>();
    bool known = false;
    for (auto s : {RequestStatus::kPending, RequestStatus::kRunning, RequestStatus::kCompleted,
                   RequestStatus::kFailed}) {
      if (RequestStatusName(s) == status) {
        r.status = s;
        known = true;
      }
    }
    if (!known) throw std::runtime_error("bad status");
    r.subject_namespace = j.at("subject_namespace").get<std::string>();
    r.subject_hash = j.at("subject_hash").get<std::string>();
    r.one_id = j.at("one_id").get<uint32_t>();
    r.received_us = j.at("received_us").get<int64_t>();
    r.deadline_us = j.at("deadline_us").get<int64_t>();
    r.completed_us = j.at("completed_us").get<int64_t>();
    r.outcome = j.at("outcome").get<std::string>();
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("data-subject request record: ") + e.what());
  }
  return r;
}

}  // namespace

std::string_view RequestTypeName(RequestType t) {
  switch (t) {
    case RequestType::kAccess:
      return "access";
    case RequestType::kDelete:
      return "delete";
    case RequestType::kCorrect:
      return "correct";
    case RequestType::kWithdraw:
      return "withdraw";
  }
  return "?";
}

Result<RequestType> RequestTypeNamed(std::string_view name) {
  for (auto t : {RequestType::kAccess, RequestType::kDelete, RequestType::kCorrect,
                 RequestType::kWithdraw}) {
    if (RequestTypeName(t) == name) return t;
  }
  return Status::InvalidArgument("unknown request type \"" + std::string(name) +
                                 "\": use access, delete, correct or withdraw");
}

std::string_view RegimeName(Regime r) {
  switch (r) {
    case Regime::kPipl:
      return "pipl";
    case Regime::kGdpr:
      return "gdpr";
    case Regime::kCcpa:
      return "ccpa";
  }
  return "?";
}

Result<Regime> RegimeNamed(std::string_view name) {
  for (auto r : {Regime::kPipl, Regime::kGdpr, Regime::kCcpa}) {
    if (RegimeName(r) == name) return r;
  }
  return Status::InvalidArgument("unknown regime \"" + std::string(name) +
                                 "\": use pipl, gdpr or ccpa");
}

int DeadlineDays(Regime r) { return r == Regime::kCcpa ? 45 : 30; }

std::string_view RequestStatusName(RequestStatus s) {
  switch (s) {
    case RequestStatus::kPending:
      return "pending";
    case RequestStatus::kRunning:
      return "running";
    case RequestStatus::kCompleted:
      return "completed";
    case RequestStatus::kFailed:
      return "failed";
  }
  return "?";
}

Result<std::unique_ptr<RequestQueue>> RequestQueue::Open(KvStore* db) {
  std::unique_ptr<RequestQueue> q(new RequestQueue(db));
  // Every stored record must read back: a corrupt queue is reported at open.
  ASSIGN_OR_RETURN(auto all, q->List());
  (void)all;
  return q;
}

Result<DataSubjectRequest> RequestQueue::Add(RequestType type, Regime regime,
                                             std::string subject_namespace,
                                             std::string subject_hash, uint32_t one_id,
                                             int64_t now_us) {
  unsigned char raw[6];
  if (RAND_bytes(raw, sizeof raw) != 1) return Status::Internal("random number generator failed");
  static const char* kHex = "0123456789abcdef";
  DataSubjectRequest r;
  r.id = "dsr_";
  for (unsigned char c : raw) {
    r.id.push_back(kHex[c >> 4]);
    r.id.push_back(kHex[c & 15]);
  }
  r.type = type;
  r.regime = regime;
  r.subject_namespace = std::move(subject_namespace);
  r.subject_hash = std::move(subject_hash);
  r.one_id = one_id;
  r.received_us = now_us;
  r.deadline_us = now_us + DeadlineDays(regime) * kMicrosPerDay;
  RETURN_IF_ERROR(Update(r));
  return r;
}

Status RequestQueue::Update(const DataSubjectRequest& r) {
  std::lock_guard lock(mu_);
  KvWriteBatch batch;
  batch.Put(std::string(kPrefix) + r.id, ToJson(r).dump());
  return db_->Write(batch);
}

Result<DataSubjectRequest> RequestQueue::Get(std::string_view id) const {
  auto v = db_->Get(std::string(kPrefix) + std::string(id));
  if (!v.ok()) {
    if (v.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("no data-subject request \"" + std::string(id) + "\"");
    }
    return v.status();
  }
  return FromJson(*v);
}

Result<std::vector<DataSubjectRequest>> RequestQueue::List() const {
  std::vector<DataSubjectRequest> out;
  RETURN_IF_ERROR(db_->ScanPrefix(kPrefix, [&](std::string_view, std::string_view v) -> Status {
    ASSIGN_OR_RETURN(DataSubjectRequest r, FromJson(v));
    out.push_back(std::move(r));
    return Status::OK();
  }));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.received_us != b.received_us ? a.received_us < b.received_us : a.id < b.id;
  });
  return out;
}

}  // namespace quanyu::privacy
