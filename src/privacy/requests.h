// The data-subject request queue (docs/privacy.md, "Data-subject
// requests"): each request's type, legal regime, deadline and status, kept
// in the state DB under "dsr/" + id. A request names its subject only by
// namespace and a keyed hash of the identifier (never the value), so the
// queue itself holds no personal data and is the minimal proof that a
// request was received and answered.
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/kv.h"
#include "common/result.h"

namespace quanyu::privacy {

enum class RequestType : uint8_t { kAccess, kDelete, kCorrect, kWithdraw };
std::string_view RequestTypeName(RequestType t);  // "access", "delete", "correct", "withdraw"
// InvalidArgument listing the types.
Result<RequestType> RequestTypeNamed(std::string_view name);

// The law the request is made under; it sets the deadline.
enum class Regime : uint8_t { kPipl, kGdpr, kCcpa };
std::string_view RegimeName(Regime r);  // "pipl", "gdpr", "ccpa"
Result<Regime> RegimeNamed(std::string_view name);
// 30 days for PIPL (art. 50 "timely"; 15 working days in GB/T 35273
// practice, 30 as the outer bound) and GDPR (art. 12(3): one month), 45
// for CCPA (§1798.130(a)(2)).
int DeadlineDays(Regime r);

enum class RequestStatus : uint8_t { kPending, kRunning, kCompleted, kFailed };
std::string_view RequestStatusName(RequestStatus s);

struct DataSubjectRequest {
  std::string id;  // "dsr_" + 12 hex digits
  RequestType type = RequestType::kAccess;
  Regime regime = Regime::kPipl;
  RequestStatus status = RequestStatus::kPending;
  std::string subject_namespace;  // e.g. "phone"
  std::string subject_hash;       // keyed hash (hex) of the normalized identifier
  uint32_t one_id = 0;            // the person when received (0 = none found)
  int64_t received_us = 0;
  int64_t deadline_us = 0;
  int64_t completed_us = 0;  // 0 = not yet
  std::string outcome;       // what was done, without personal data; or the error
};

class RequestQueue {
 public:
  static Result<std::unique_ptr<RequestQueue>> Open(KvStore* db);
  // Records a new pending request (id and deadline assigned).
  Result<DataSubjectRequest> Add(RequestType type, Regime regime, std::string subject_namespace,
                                 std::string subject_hash, uint32_t one_id, int64_t now_us);
  // Saves a changed request (status, outcome, completion time).
  Status Update(const DataSubjectRequest& request);
  // NotFound if unknown.
  Result<DataSubjectRequest> Get(std::string_view id) const;
  // Every request, oldest first.
  Result<std::vector<DataSubjectRequest>> List() const;

 private:
  explicit RequestQueue(KvStore* db) : db_(db) {}
  KvStore* db_;
  std::mutex mu_;
};

}  // namespace quanyu::privacy
