// The privacy gate (docs/privacy.md, "Enforcement"): the decisions every
// stage asks without depending on any stage —
//   * at collect, GateAtCollect: may this event be stored, and without which
//     sensitive properties;
//   * at export and activation, MayUse: may this person be exported or
//     contacted for a purpose, destination and channel.
// Each decision is a value naming the rule that made it, so callers can
// count it in /metrics and explain it.
//
// Thread-safety: stateless functions over const inputs; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/event.h"
#include "common/result.h"
#include "privacy/consent.h"

namespace quanyu::privacy {

// What collect does with behavioural events (track, page, screen) of a
// person whose analytics consent is not granted.
enum class AnalyticsPolicy {
  kAccept,          // store them (consent is still recorded)
  kDropRefused,     // drop them once analytics is denied or withdrawn (default; opt-out)
  kRequireGranted,  // store them only with analytics granted (opt-in)
};
// "accept", "drop_refused", "require_granted"; InvalidArgument listing them.
Result<AnalyticsPolicy> AnalyticsPolicyNamed(std::string_view name);
std::string_view AnalyticsPolicyName(AnalyticsPolicy p);

// The property keys dropped without sensitive-data consent, by default:
// precise location, health, financial accounts, identity documents,
// biometrics (PIPL art. 28).
const std::vector<std::string>& DefaultSensitiveProperties();

struct CollectPolicy {
  AnalyticsPolicy analytics = AnalyticsPolicy::kDropRefused;
  std::map<std::string, AnalyticsPolicy> analytics_by_source;  // overrides, by source name
  // Top-level keys of properties, traits and context removed from an event
  // unless the person granted sensitive-data consent.
  std::vector<std::string> sensitive_properties = DefaultSensitiveProperties();
  // A person whose properties or traits say `child_age_property` < child_age
  // (PIPL art. 28: personal information of minors under 14) is sensitive as
  // a whole: their events are dropped without sensitive-data consent (a
  // guardian's, PIPL art. 31). Empty property = off.
  std::string child_age_property = "age";
  int child_age = 14;

  AnalyticsPolicy AnalyticsFor(const std::string& source) const {
    auto it = analytics_by_source.find(source);
    return it == analytics_by_source.end() ? analytics : it->second;
  }
};

// The gate's answer for one event.
struct CollectVerdict {
  bool drop = false;
  // When dropped: "analytics_consent" or "child_data". Stable /metrics labels.
  std::string rule;
  std::string message;  // for the rejection list
  size_t stripped = 0;  // sensitive properties removed
};

// Decides for event `e` of a person whose consent is `person` (the ledger's
// state with the event's own decisions and any earlier in the same request
// already folded in). Removes sensitive properties from `e` in place. An
// event that `carries_consent` decisions (DecisionsOf) is never dropped for
// analytics consent: it is the proof the ledger keeps.
CollectVerdict GateAtCollect(const CollectPolicy& policy, const ConsentState& person,
                             bool carries_consent, Event* e);

// A use of a person's data outside the store.
struct Use {
  Topic purpose = Topic::kMarketing;  // a purpose topic
  std::optional<Topic> channel;       // a contact channel, when contacting
  bool third_party = false;           // the data goes to another controller (an ad platform)
  bool cross_border = false;          // the destination is outside the country
  std::string destination;            // for the explanation ("meta", "sms", ...)
};
struct UseDecision {
  bool allowed = true;
  // When refused: "purpose_refused", "purpose_not_granted",
  // "sharing_refused", "cross_border_not_granted", "channel_refused".
  std::string rule;
  std::string reason;  // human-readable
};

// The one function that decides whether a person may be exported or
// contacted (docs/privacy.md has the table):
//   * a purpose denied or withdrawn refuses every use for it;
//   * handing data to a third party needs the purpose explicitly granted
//     (PIPL art. 23 separate consent; silence is not consent) and third-party
//     sharing not refused (CCPA opt-out of sale/sharing);
//   * a cross-border destination needs cross_border_transfer granted
//     (PIPL art. 39);
//   * a contact channel denied or withdrawn refuses contact through it.
// In-house analytics uses (purpose analytics, no third party) need only
// that analytics is not refused.
UseDecision MayUse(const ConsentState& person, const Use& use);

}  // namespace quanyu::privacy
