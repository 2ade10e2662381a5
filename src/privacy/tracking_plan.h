// TrackingPlan: optional per-event schema checked at collect time (the shape
// of Segment Protocols and of Sensors Data's 元数据 event definitions).
//
// A plan lists event definitions. Each names one event, the event types it
// applies to (default: track only) and its top-level properties, each with a
// type, whether it is required and optionally the values it may take. A mode
// says what a violation does: allow (accept, report nothing), flag (accept and
// report) or block (refuse and report). The plan has a default mode, each
// definition may override it, and a separate `unplanned` mode governs events
// the plan does not define.
//
// The typed commerce columns count as properties: the collectors lift revenue,
// value, quantity, currency, order_id and product_id out of the properties
// into Event fields, so a definition naming one of those keys is checked
// against the Event's field (and against properties_json only when the field
// is absent, which is where a collector leaves a value it could not lift).
//
// Plan document (JSON; every key but `events`, `name` and `type` optional):
//   {"mode": "flag",            // allow | flag | block; default flag
//    "unplanned": "allow",      // allow | flag | block; default allow
//    "events": [{"name": "Order Completed",
//                "types": ["track"],          // EventTypeName values
//                "mode": "block",             // default: the plan's mode
//                "properties": {"revenue": {"type": "number", "required": true},
//                               "payment": {"type": "string",
//                                           "enum": ["alipay", "wechat_pay"]}},
//                "allow_other_properties": true}]}
// Property types: string, number, integer (a number with no fractional part),
// boolean, object, array. Unknown keys, duplicate keys and duplicate event
// names are refused so that a typo cannot silently disable a rule.
//
// Thread-safety: a TrackingPlan is immutable after Parse; Check, ToJson and
// the accessors are const and safe to call concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "common/event.h"
#include "common/result.h"

namespace quanyu::privacy {

enum class PlanMode : uint8_t { kAllow, kFlag, kBlock };

enum class PropertyType : uint8_t { kString, kNumber, kInteger, kBoolean, kObject, kArray };

// One allowed value of an `enum`. Numbers are held as double, so integers
// beyond 2^53 compare approximately.
using EnumValue = std::variant<bool, double, std::string>;

struct PropertyRule {
  std::string name;
  PropertyType type = PropertyType::kString;
  bool required = false;
  std::vector<EnumValue> allowed;  // empty = any value of `type`

  bool operator==(const PropertyRule&) const = default;
};

struct EventDefinition {
  std::string name;                      // non-empty, unique within the plan
  std::vector<EventType> types;          // non-empty; default {kTrack}
  std::optional<PlanMode> mode;          // nullopt = the plan's default mode
  std::vector<PropertyRule> properties;  // in the order the document lists them
  bool allow_other_properties = true;

  bool operator==(const EventDefinition&) const = default;
};

// One way an event departs from the plan.
struct Violation {
  // Stable snake_case identifier, one of: "missing_required", "wrong_type",
  // "not_in_enum", "unexpected_property", "unplanned_event",
  // "invalid_properties_json".
  std::string kind;
  std::string property;  // the top-level property concerned; empty for whole-event kinds
  std::string message;   // for people, e.g. `property "revenue" must be a number, got string "12"`
};

struct Validation {
  enum class Verdict : uint8_t {
    kAccept,  // store the event; no violation to report
    kFlag,    // store the event and report `violations`
    kBlock,   // refuse the event with `violations`
  };
  Verdict verdict = Verdict::kAccept;
  std::vector<Violation> violations;  // empty iff verdict == kAccept

  bool accepted() const { return verdict != Verdict::kBlock; }
};

class TrackingPlan {
 public:
  // An empty plan: mode flag, unplanned allow, no definitions. Accepts every
  // event and reports nothing.
  TrackingPlan() = default;

  // Parses and validates a plan document (format above). On failure returns
  // InvalidArgument whose message starts with the JSON path of the offending
  // value, e.g. `events[2].properties.revenue.type: unknown type "float"; use
  // one of string, number, integer, boolean, object, array`. Never throws.
  static Result<TrackingPlan> Parse(std::string_view json_text);

  // Checks one event against the plan. Matching is by name and type: the
  // definition whose name equals event.name applies if event.type is among
  // its types. Only top-level properties are checked; an empty
  // properties_json means no properties, and one that is not a JSON object
  // yields an "invalid_properties_json" violation (the typed columns are still
  // checked). An event no definition matches is unplanned when it has a
  // non-empty name and its type is track or a type some definition lists
  // (nameless identify/group/alias/profile records are never unplanned).
  // Violations come in a stable order: invalid JSON, then the definition's
  // properties in plan order, then unexpected properties by name.
  Validation Check(const Event& event) const;

  // The plan as a normalized, compact document: every default written out
  // except a definition's `mode`, which stays absent when it inherits the
  // plan's. Parse accepts it and yields an equal plan.
  std::string ToJson() const;

  PlanMode mode() const { return mode_; }
  PlanMode unplanned() const { return unplanned_; }
  const std::vector<EventDefinition>& events() const { return events_; }

 private:
  PlanMode mode_ = PlanMode::kFlag;
  PlanMode unplanned_ = PlanMode::kAllow;
  std::vector<EventDefinition> events_;
  std::unordered_map<std::string, size_t> by_name_;  // name -> index into events_
  uint32_t governed_types_ = 1u << static_cast<int>(EventType::kTrack);  // bit per EventType
};

// "allow", "flag", "block".
std::string_view PlanModeName(PlanMode mode);
// "string", "number", "integer", "boolean", "object", "array".
std::string_view PropertyTypeName(PropertyType type);

}  // namespace quanyu::privacy
