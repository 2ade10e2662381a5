#include "privacy/consent.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/coding.h"

namespace quanyu::privacy {
namespace {

using nlohmann::json;

constexpr std::string_view kTopicNames[kTopicCount] = {"analytics",
                                                       "marketing",
                                                       "personalization",
                                                       "sensitive",
                                                       "third_party_sharing",
                                                       "cross_border_transfer",
                                                       "sms",
                                                       "email",
                                                       "wechat",
                                                       "wecom",
                                                       "push",
                                                       "phone"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : out) {
    if (c == ' ' || c == '-') c = '_';
  }
  return out;
}

// Category names of common consent managers (Segment Consent Management,
// OneTrust, the IAB groups), lower-cased, beside the topic names themselves.
struct Synonym {
  std::string_view name;
  Topic topic;
};
constexpr Synonym kSynonyms[] = {
    {"analytic", Topic::kAnalytics},
    {"performance", Topic::kAnalytics},
    {"statistics", Topic::kAnalytics},
    {"measurement", Topic::kAnalytics},
    {"advertising", Topic::kMarketing},
    {"targeting", Topic::kMarketing},
    {"ads", Topic::kMarketing},
    {"personalisation", Topic::kPersonalization},
    {"functional", Topic::kPersonalization},
    {"sensitive_personal_information", Topic::kSensitive},
    {"sensitive_data", Topic::kSensitive},
    {"sharing", Topic::kThirdPartySharing},
    {"third_party", Topic::kThirdPartySharing},
    {"sale_of_data", Topic::kThirdPartySharing},  // CCPA "do not sell or share"
    {"cross_border", Topic::kCrossBorder},
};

// One "topic": value pair into a decision; false when the value is not a
// boolean or a status name.
bool ToStatus(const json& v, ConsentStatus* out) {
  if (v.is_boolean()) {
    *out = v.get<bool>() ? ConsentStatus::kGranted : ConsentStatus::kDenied;
    return true;
  }
  if (v.is_string()) {
    auto s = StatusNamed(v.get<std::string>());
    if (s && *s != ConsentStatus::kUnknown) {
      *out = *s;
      return true;
    }
  }
  return false;
}

// Reads one consent object: {"categoryPreferences": {...}, "purposes": {...},
// "channels": {...}, "policy_version": "...", "source": "..."}.
void ReadConsentObject(const json& c, const Event& e, std::vector<ConsentDecision>* out,
                       size_t* unknown) {
  if (!c.is_object()) return;
  ConsentDecision base;
  base.time_us = e.timestamp_us;
  base.source = e.source;
  base.message_id = e.message_id;
  if (auto it = c.find("policy_version"); it != c.end() && it->is_string())
    base.policy_version = it->get<std::string>();
  if (auto it = c.find("source");
      it != c.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
    base.source = it->get<std::string>();
  auto read_map = [&](const char* field, bool channels_only) {
    auto it = c.find(field);
    if (it == c.end() || !it->is_object()) return;
    for (const auto& [name, value] : it->items()) {
      auto topic = channels_only ? ChannelNamed(name) : TopicNamed(name);
      ConsentStatus status;
      if (!topic || !ToStatus(value, &status)) {
        if (unknown) ++*unknown;
        continue;
      }
      ConsentDecision d = base;
      d.topic = *topic;
      d.status = status;
      out->push_back(std::move(d));
    }
  };
  read_map("categoryPreferences", false);
  read_map("purposes", false);
  read_map("channels", true);
}

}  // namespace

std::string_view TopicName(Topic t) { return kTopicNames[static_cast<int>(t)]; }
bool IsPurpose(Topic t) { return static_cast<int>(t) < kPurposeCount; }

std::optional<Topic> TopicNamed(std::string_view name) {
  std::string n = Lower(name);
  for (int i = 0; i < kTopicCount; ++i) {
    if (kTopicNames[i] == n) return static_cast<Topic>(i);
  }
  for (const auto& s : kSynonyms) {
    if (s.name == n) return s.topic;
  }
  return std::nullopt;
}

std::optional<Topic> ChannelNamed(std::string_view name) {
  auto t = TopicNamed(name);
  if (!t || IsPurpose(*t)) return std::nullopt;
  return t;
}

std::string_view StatusName(ConsentStatus s) {
  switch (s) {
    case ConsentStatus::kUnknown:
      return "unknown";
    case ConsentStatus::kGranted:
      return "granted";
    case ConsentStatus::kDenied:
      return "denied";
    case ConsentStatus::kWithdrawn:
      return "withdrawn";
  }
  return "unknown";
}

std::optional<ConsentStatus> StatusNamed(std::string_view name) {
  std::string n = Lower(name);
  if (n == "granted") return ConsentStatus::kGranted;
  if (n == "denied") return ConsentStatus::kDenied;
  if (n == "withdrawn") return ConsentStatus::kWithdrawn;
  if (n == "unknown") return ConsentStatus::kUnknown;
  return std::nullopt;
}

std::vector<ConsentDecision> DecisionsOf(const Event& e, size_t* unknown) {
  std::vector<ConsentDecision> out;
  // Fast path: almost no event carries consent.
  if (e.context_json.find("\"consent\"") != std::string::npos) {
    json ctx = json::parse(e.context_json, nullptr, false);
    if (ctx.is_object()) {
      if (auto it = ctx.find("consent"); it != ctx.end()) ReadConsentObject(*it, e, &out, unknown);
    }
  }
  for (const std::string* text : {&e.properties_json, &e.traits_json}) {
    if (text->find("\"$consent\"") == std::string::npos) continue;
    json p = json::parse(*text, nullptr, false);
    if (!p.is_object()) continue;
    if (auto it = p.find("$consent"); it != p.end()) ReadConsentObject(*it, e, &out, unknown);
  }
  return out;
}

ConsentState FoldDecisions(std::vector<ConsentDecision> decisions) {
  ConsentState s;
  s.history = std::move(decisions);
  // Time order; at equal times a denial/withdrawal after a grant (the safer
  // reading), then by message id for a deterministic order.
  std::stable_sort(s.history.begin(), s.history.end(),
                   [](const ConsentDecision& a, const ConsentDecision& b) {
                     if (a.time_us != b.time_us) return a.time_us < b.time_us;
                     bool ga = a.status == ConsentStatus::kGranted;
                     bool gb = b.status == ConsentStatus::kGranted;
                     if (ga != gb) return ga;
                     return a.message_id < b.message_id;
                   });
  for (size_t i = 0; i < s.history.size(); ++i) {
    const auto& d = s.history[i];
    auto& st = s.status[static_cast<int>(d.topic)];
    ConsentStatus next = d.status;
    if (next == ConsentStatus::kDenied &&
        (st == ConsentStatus::kGranted || st == ConsentStatus::kWithdrawn)) {
      next = ConsentStatus::kWithdrawn;
    }
    st = next;
    s.latest[static_cast<int>(d.topic)] = static_cast<int>(i);
  }
  return s;
}

std::string EncodeDecisions(const std::vector<ConsentDecision>& decisions) {
  std::string out;
  out.push_back(1);  // format version
  PutVarint64(&out, decisions.size());
  for (const auto& d : decisions) {
    out.push_back(static_cast<char>(d.topic));
    out.push_back(static_cast<char>(d.status));
    PutVarsint64(&out, d.time_us);
    PutLengthPrefixed(&out, d.source);
    PutLengthPrefixed(&out, d.policy_version);
    PutLengthPrefixed(&out, d.message_id);
  }
  return out;
}

Result<std::vector<ConsentDecision>> DecodeDecisions(std::string_view bytes) {
  Decoder in(bytes);
  uint8_t version = 0;
  uint64_t n = 0;
  if (!in.GetByte(&version) || version != 1 || !in.GetVarint64(&n) || n > bytes.size()) {
    return Status::Corruption("consent record: bad header");
  }
  std::vector<ConsentDecision> out(n);
  for (auto& d : out) {
    uint8_t topic = 0, status = 0;
    if (!in.GetByte(&topic) || !in.GetByte(&status) || topic >= kTopicCount || status == 0 ||
        status > static_cast<uint8_t>(ConsentStatus::kWithdrawn) || !in.GetVarsint64(&d.time_us) ||
        !in.GetString(&d.source) || !in.GetString(&d.policy_version) ||
        !in.GetString(&d.message_id)) {
      return Status::Corruption("consent record: truncated or invalid decision");
    }
    d.topic = static_cast<Topic>(topic);
    d.status = static_cast<ConsentStatus>(status);
  }
  if (!in.done()) return Status::Corruption("consent record: trailing bytes");
  return out;
}

void ConsentLedger::Apply(const std::vector<Event>& events) {
  for (const auto& e : events) {
    if (e.identity_key == 0) continue;
    auto decisions = DecisionsOf(e);
    if (!decisions.empty()) Add(e.identity_key, std::move(decisions));
  }
}

void ConsentLedger::Add(uint32_t key, std::vector<ConsentDecision> decisions) {
  if (decisions.empty()) return;
  std::unique_lock lock(mu_);
  auto& v = by_key_[key];
  // Replaying the log re-applies events the ledger may already hold (it is
  // saved with the identity checkpoint): a decision is its event's, once.
  size_t added = 0;
  for (auto& d : decisions) {
    if (std::find(v.begin(), v.end(), d) != v.end()) continue;
    v.push_back(std::move(d));
    ++added;
  }
  if (added) {
    dirty_.push_back(key);
    records_.fetch_add(added, std::memory_order_relaxed);
  }
}

ConsentState ConsentLedger::Fold(const std::vector<uint32_t>& keys) const {
  std::vector<ConsentDecision> all;
  if (!empty()) {
    std::shared_lock lock(mu_);
    for (uint32_t k : keys) {
      auto it = by_key_.find(k);
      if (it != by_key_.end()) all.insert(all.end(), it->second.begin(), it->second.end());
    }
  }
  return FoldDecisions(std::move(all));
}

std::vector<uint32_t> ConsentLedger::Keys() const {
  std::shared_lock lock(mu_);
  std::vector<uint32_t> out;
  out.reserve(by_key_.size());
  for (const auto& [key, decisions] : by_key_) out.push_back(key);
  return out;
}

void ConsentCoverage::Count(const ConsentState& state) {
  for (int t = 0; t < kTopicCount; ++t) {
    switch (state.status[t]) {
      case ConsentStatus::kGranted:
        ++granted[t];
        break;
      case ConsentStatus::kWithdrawn:
        ++withdrawn[t];
        ++refused[t];
        break;
      case ConsentStatus::kDenied:
        ++refused[t];
        break;
      case ConsentStatus::kUnknown:
        break;
    }
  }
}

uint64_t ConsentCoverage::unknown(Topic t) const {
  const int i = static_cast<int>(t);
  const uint64_t decided = granted[i] + refused[i];
  return persons > decided ? persons - decided : 0;
}

void ConsentLedger::Erase(const std::vector<uint32_t>& keys) {
  std::unique_lock lock(mu_);
  for (uint32_t k : keys) {
    auto it = by_key_.find(k);
    if (it == by_key_.end()) continue;
    records_.fetch_sub(it->second.size(), std::memory_order_relaxed);
    by_key_.erase(it);
    dirty_.push_back(k);
  }
}

void ConsentLedger::WriteDirty(KvWriteBatch* batch) {
  std::unique_lock lock(mu_);
  std::sort(dirty_.begin(), dirty_.end());
  dirty_.erase(std::unique(dirty_.begin(), dirty_.end()), dirty_.end());
  for (uint32_t k : dirty_) {
    auto it = by_key_.find(k);
    if (it == by_key_.end()) {
      batch->Delete(IdKey(kKeyPrefix, k));
    } else {
      batch->Put(IdKey(kKeyPrefix, k), EncodeDecisions(it->second));
    }
  }
  dirty_.clear();
}

Result<std::unique_ptr<ConsentLedger>> ConsentLedger::Load(const KvReader& db) {
  auto ledger = std::make_unique<ConsentLedger>();
  RETURN_IF_ERROR(db.ScanPrefix(kKeyPrefix, [&](std::string_view k, std::string_view v) -> Status {
    ASSIGN_OR_RETURN(uint32_t key, IdOfKey(k, kKeyPrefix));
    ASSIGN_OR_RETURN(std::vector<ConsentDecision> d, DecodeDecisions(v));
    ledger->records_.fetch_add(d.size(), std::memory_order_relaxed);
    ledger->by_key_[key] = std::move(d);
    return Status::OK();
  }));
  return ledger;
}

}  // namespace quanyu::privacy
