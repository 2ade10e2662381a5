#include "privacy/gate.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

namespace quanyu::privacy {
namespace {

using ojson = nlohmann::ordered_json;

bool IsBehavioural(EventType t) {
  return t == EventType::kTrack || t == EventType::kPage || t == EventType::kScreen ||
         t == EventType::kTrackSignup;
}

// `"name"` occurs in `text` (a cheap test before parsing; no allocation).
bool Mentions(const std::string& text, std::string_view name) {
  for (size_t pos = text.find(name); pos != std::string::npos; pos = text.find(name, pos + 1)) {
    if (pos > 0 && text[pos - 1] == '"' && pos + name.size() < text.size() &&
        text[pos + name.size()] == '"')
      return true;
  }
  return false;
}

// The last segments of `keys` ("b" of "a.b"), and a mask of their lengths,
// for a cheap test of each quoted string of a text.
struct KeyNames {
  explicit KeyNames(const std::vector<std::string>& keys) {
    names.reserve(keys.size());
    for (const auto& k : keys) {
      std::string_view last = k;
      if (auto dot = last.rfind('.'); dot != std::string_view::npos) last = last.substr(dot + 1);
      names.push_back(last);
      lengths |= uint64_t{1} << std::min<size_t>(last.size(), 63);
    }
  }
  bool Contains(std::string_view token) const {
    if (!(lengths >> std::min<size_t>(token.size(), 63) & 1)) return false;
    for (auto n : names) {
      if (n == token) return true;
    }
    return false;
  }
  std::vector<std::string_view> names;
  uint64_t lengths = 0;
};

// Removes `keys` ("key" or "object.key") from the JSON object in `text`;
// returns how many were removed. Key order is kept.
size_t StripKeys(const std::vector<std::string>& keys, const KeyNames& names, std::string* text) {
  if (text->empty()) return 0;
  // One pass over the quoted strings of the text: most events name none of
  // the keys, and parsing them would cost more than the rest of collect.
  bool any = false;
  const char* begin = text->data();
  const char* end = begin + text->size();
  for (const char* q = static_cast<const char*>(std::memchr(begin, '"', text->size()));
       q != nullptr && !any;) {
    const char* close = q + 1;
    for (;;) {  // the closing quote: one not escaped by an odd run of backslashes
      close = static_cast<const char*>(std::memchr(close, '"', end - close));
      if (close == nullptr) break;
      size_t backslashes = 0;
      while (close - backslashes > q + 1 && close[-1 - static_cast<ptrdiff_t>(backslashes)] == '\\')
        ++backslashes;
      if (backslashes % 2 == 0) break;
      ++close;
    }
    if (close == nullptr) break;
    any = names.Contains(std::string_view(q + 1, close - q - 1));
    q = close + 1 < end ? static_cast<const char*>(std::memchr(close + 1, '"', end - close - 1))
                        : nullptr;
  }
  // Escaped key names ("\u006catitude") hide from the token test.
  if (!any && text->find("\\u") == std::string::npos) return 0;
  ojson doc = ojson::parse(*text, nullptr, false);
  if (!doc.is_object()) {  // not an object we can edit: keep none of it
    text->clear();
    return 1;
  }
  size_t removed = 0;
  for (const auto& k : keys) {
    auto dot = k.find('.');
    if (dot == std::string::npos) {
      removed += doc.erase(k);
      continue;
    }
    auto it = doc.find(k.substr(0, dot));
    if (it != doc.end() && it->is_object()) removed += it->erase(k.substr(dot + 1));
  }
  if (removed) {
    *text = doc.empty() ? std::string() : doc.dump(-1, ' ', false, ojson::error_handler_t::replace);
  }
  return removed;
}

// The `property` of a JSON object text as a number, if it is one (or a
// numeric string).
std::optional<double> NumberOf(const std::string& text, const std::string& property) {
  if (!Mentions(text, property)) return std::nullopt;
  ojson doc = ojson::parse(text, nullptr, false);
  if (!doc.is_object()) return std::nullopt;
  auto it = doc.find(property);
  if (it == doc.end()) return std::nullopt;
  if (it->is_number()) return it->get<double>();
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0') return v;
  }
  return std::nullopt;
}

}  // namespace

Result<AnalyticsPolicy> AnalyticsPolicyNamed(std::string_view name) {
  if (name == "accept") return AnalyticsPolicy::kAccept;
  if (name == "drop_refused") return AnalyticsPolicy::kDropRefused;
  if (name == "require_granted") return AnalyticsPolicy::kRequireGranted;
  return Status::InvalidArgument("unknown analytics consent policy \"" + std::string(name) +
                                 "\": use accept, drop_refused or require_granted");
}

std::string_view AnalyticsPolicyName(AnalyticsPolicy p) {
  switch (p) {
    case AnalyticsPolicy::kAccept:
      return "accept";
    case AnalyticsPolicy::kDropRefused:
      return "drop_refused";
    case AnalyticsPolicy::kRequireGranted:
      return "require_granted";
  }
  return "?";
}

const std::vector<std::string>& DefaultSensitiveProperties() {
  static const std::vector<std::string> kKeys = {
      // precise location (Segment context.location, Sensors $latitude)
      "latitude", "longitude", "$latitude", "$longitude", "location.latitude", "location.longitude",
      "gps",
      // health
      "health", "health_condition", "medical_record", "diagnosis",
      // financial accounts
      "bank_account", "bank_card", "bank_card_number", "card_number",
      // identity documents and biometrics
      "id_card", "id_card_number", "passport_number", "biometric", "face_id", "fingerprint",
      // beliefs
      "religion"};
  return kKeys;
}

CollectVerdict GateAtCollect(const CollectPolicy& policy, const ConsentState& person,
                             bool carries_consent, Event* e) {
  CollectVerdict v;
  if (IsBehavioural(e->type) && !carries_consent) {
    AnalyticsPolicy p = policy.AnalyticsFor(e->source);
    const bool refused = person.refused(Topic::kAnalytics);
    if ((p == AnalyticsPolicy::kDropRefused && refused) ||
        (p == AnalyticsPolicy::kRequireGranted && !person.granted(Topic::kAnalytics))) {
      v.drop = true;
      v.rule = "analytics_consent";
      v.message = "event " + e->message_id + " dropped: the person's analytics consent is " +
                  std::string(StatusName(person.of(Topic::kAnalytics))) + " (policy " +
                  std::string(AnalyticsPolicyName(p)) + " for source " + e->source + ")";
      return v;
    }
  }
  if (person.granted(Topic::kSensitive)) return v;
  if (!policy.child_age_property.empty()) {
    for (const std::string* text : {&e->properties_json, &e->traits_json}) {
      auto age = NumberOf(*text, policy.child_age_property);
      if (age && *age >= 0 && *age < policy.child_age) {
        v.drop = true;
        v.rule = "child_data";
        v.message = "event " + e->message_id + " dropped: it describes a child under " +
                    std::to_string(policy.child_age) +
                    " and no sensitive-data (guardian) consent is recorded";
        return v;
      }
    }
  }
  const KeyNames names(policy.sensitive_properties);
  for (std::string* text : {&e->properties_json, &e->traits_json, &e->context_json}) {
    v.stripped += StripKeys(policy.sensitive_properties, names, text);
  }
  return v;
}

UseDecision MayUse(const ConsentState& person, const Use& use) {
  auto refuse = [&](const char* rule, std::string reason) {
    return UseDecision{false, rule, std::move(reason)};
  };
  const std::string purpose(TopicName(use.purpose));
  if (person.refused(use.purpose)) {
    return refuse("purpose_refused",
                  purpose + " consent is " + std::string(StatusName(person.of(use.purpose))));
  }
  if (use.third_party) {
    if (!person.granted(use.purpose)) {
      return refuse("purpose_not_granted", use.destination + " is a third party: " + purpose +
                                               " consent must be granted explicitly (it is " +
                                               std::string(StatusName(person.of(use.purpose))) +
                                               ")");
    }
    if (person.refused(Topic::kThirdPartySharing)) {
      return refuse("sharing_refused", "the person opted out of sharing with third parties");
    }
  }
  if (use.cross_border && !person.granted(Topic::kCrossBorder)) {
    return refuse("cross_border_not_granted",
                  use.destination +
                      " is outside the country: cross-border transfer consent "
                      "must be granted (it is " +
                      std::string(StatusName(person.of(Topic::kCrossBorder))) + ")");
  }
  if (use.channel && person.refused(*use.channel)) {
    return refuse("channel_refused", "contact by " + std::string(TopicName(*use.channel)) + " is " +
                                         std::string(StatusName(person.of(*use.channel))));
  }
  return UseDecision{};
}

}  // namespace quanyu::privacy
