// The consent ledger (docs/privacy.md, "Consent"): every consent decision a
// person made, per purpose and per contact channel, with its time, source,
// policy version and the event that carried it. Append-only; a person's
// state is the latest decision per topic over all their identifiers.
//
// Decisions arrive inside events, so they share the log's durability and
// replay: Segment's context.consent (categoryPreferences, Segment's consent
// model, plus Quanyu's "purposes" / "channels" maps and "policy_version"),
// Sensors' "$consent" property object, POST /api/v1/consent (a "Consent
// Updated" event the engine appends) and imported JSONL/CSV events.
//
// Like the profile partials, decisions are kept per identity key (the
// interned identifier an event is attributed to) and folded over the keys
// the identity graph gives a person now, so merges and splits need no
// rewrite.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/event.h"
#include "common/kv.h"
#include "common/result.h"

namespace quanyu::privacy {

// What a decision is about: a processing purpose or a contact channel.
// Values are persisted: never reorder, only append.
enum class Topic : uint8_t {
  // Purposes.
  kAnalytics = 0,
  kMarketing = 1,
  kPersonalization = 2,
  kSensitive = 3,          // sensitive personal information (PIPL art. 28-29)
  kThirdPartySharing = 4,  // handing data to another controller (PIPL art. 23)
  kCrossBorder = 5,        // transfer out of the country (PIPL art. 39)
  // Contact channels.
  kSms = 6,
  kEmail = 7,
  kWechat = 8,
  kWecom = 9,
  kPush = 10,
  kPhone = 11,
};
inline constexpr int kTopicCount = 12;
inline constexpr int kPurposeCount = 6;

// "analytics", "marketing", "personalization", "sensitive",
// "third_party_sharing", "cross_border_transfer", "sms", "email", "wechat",
// "wecom", "push", "phone".
std::string_view TopicName(Topic t);
bool IsPurpose(Topic t);
// A topic by its name or a common consent-manager category name
// (case-insensitive; e.g. "Advertising" and "targeting" are marketing,
// "Performance" and "statistics" analytics, "Functional" personalization);
// nullopt when unknown.
std::optional<Topic> TopicNamed(std::string_view name);
// A contact channel topic by name (sms, email, wechat, wecom, push, phone).
std::optional<Topic> ChannelNamed(std::string_view name);

// Values are persisted: never reorder, only append.
enum class ConsentStatus : uint8_t { kUnknown = 0, kGranted = 1, kDenied = 2, kWithdrawn = 3 };
std::string_view StatusName(ConsentStatus s);  // "unknown", "granted", "denied", "withdrawn"
std::optional<ConsentStatus> StatusNamed(std::string_view name);

// One decision as recorded.
struct ConsentDecision {
  Topic topic = Topic::kAnalytics;
  ConsentStatus status = ConsentStatus::kUnknown;  // never kUnknown once recorded
  int64_t time_us = 0;                             // the carrying event's time
  std::string source;                              // the event's source, or consent.source
  std::string policy_version;                      // "" when not given
  std::string message_id;                          // the event that carried it
  bool operator==(const ConsentDecision&) const = default;
};

// The decisions one event carries (see the file comment for the shapes);
// an event carries none in the common case. A bool true is "granted", false
// "denied" (the fold turns a denial after a grant into "withdrawn").
// Unknown category names are skipped and counted in *unknown.
std::vector<ConsentDecision> DecisionsOf(const Event& e, size_t* unknown = nullptr);

// A person's effective state: the latest decision per topic, time-ordered
// (at equal times a denial wins, the safer reading); a denial that follows
// a grant reads "withdrawn".
struct ConsentState {
  std::array<ConsentStatus, kTopicCount> status{};  // kUnknown = never answered
  std::array<int, kTopicCount> latest;              // index into `history`, -1 = none
  std::vector<ConsentDecision> history;             // every decision, time order

  ConsentState() { latest.fill(-1); }

  ConsentStatus of(Topic t) const { return status[static_cast<int>(t)]; }
  bool granted(Topic t) const { return of(t) == ConsentStatus::kGranted; }
  // Denied or withdrawn.
  bool refused(Topic t) const {
    return of(t) == ConsentStatus::kDenied || of(t) == ConsentStatus::kWithdrawn;
  }
};
// Folds decisions (any order) into a state.
ConsentState FoldDecisions(std::vector<ConsentDecision> decisions);

// How many persons stand where on each topic (GET /api/v1/consent/coverage):
// Count each person's state; persons never counted are "unknown" on every
// topic, so with `persons` set to everybody, granted + refused + unknown =
// persons for each topic.
struct ConsentCoverage {
  uint64_t persons = 0;                           // everybody
  std::array<uint64_t, kTopicCount> granted{};    // latest decision granted
  std::array<uint64_t, kTopicCount> refused{};    // denied or withdrawn
  std::array<uint64_t, kTopicCount> withdrawn{};  // of refused: after a grant
  void Count(const ConsentState& state);
  uint64_t unknown(Topic t) const;
};

// The ledger: decisions per identity key, in memory, persisted under
// "cs/" + big-endian key (docs/privacy.md, "On disk").
//
// Thread-safety: all methods are safe to call concurrently, except as noted.
class ConsentLedger {
 public:
  // Records the decisions of each event with an identity key (events without
  // one are skipped; their decisions cannot belong to anybody).
  void Apply(const std::vector<Event>& events);
  // Records decisions for `key` directly (tests, import of a ledger).
  void Add(uint32_t key, std::vector<ConsentDecision> decisions);
  // The state of the person holding `keys`.
  ConsentState Fold(const std::vector<uint32_t>& keys) const;
  // Whether any decision is recorded at all (a fast path for the gate).
  bool empty() const { return records_.load(std::memory_order_relaxed) == 0; }
  size_t records() const { return records_.load(std::memory_order_relaxed); }
  // Removes every decision of `keys` (a completed deletion request).
  void Erase(const std::vector<uint32_t>& keys);
  // Every identity key holding a decision, in no order.
  std::vector<uint32_t> Keys() const;

  // Adds every key changed since the last call to `batch` (erased keys as
  // deletes). REQUIRES: no concurrent Apply/Erase (the engine's identity lock).
  void WriteDirty(KvWriteBatch* batch);
  // Reads what WriteDirty wrote; Corruption on a bad record.
  static Result<std::unique_ptr<ConsentLedger>> Load(const KvReader& db);

  static constexpr std::string_view kKeyPrefix = "cs/";

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<uint32_t, std::vector<ConsentDecision>> by_key_;
  std::vector<uint32_t> dirty_;
  std::atomic<size_t> records_{0};
};

// Encoding of one key's decisions (exposed for tests).
std::string EncodeDecisions(const std::vector<ConsentDecision>& decisions);
Result<std::vector<ConsentDecision>> DecodeDecisions(std::string_view bytes);

}  // namespace quanyu::privacy
