#include "privacy/tracking_plan.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <set>

namespace quanyu::privacy {
namespace {

// Insertion-ordered, so ToJson keeps the plan's order and checks see the
// event's properties in the order they were sent.
using json = nlohmann::ordered_json;

constexpr std::array<std::string_view, 3> kModeNames = {"allow", "flag", "block"};
constexpr std::array<std::string_view, 6> kTypeNames = {"string",  "number", "integer",
                                                        "boolean", "object", "array"};
constexpr std::array<std::string_view, 6> kTypeArticles = {"a string",  "a number",  "an integer",
                                                           "a boolean", "an object", "an array"};

// The Event fields the collectors lift out of the properties: exactly one of
// `number` and `text` is set.
struct Column {
  std::string_view name;
  std::optional<double> Event::*number;
  std::string Event::*text;
};
constexpr Column kColumns[] = {
    {"revenue", &Event::revenue, nullptr},   {"value", &Event::value, nullptr},
    {"quantity", &Event::quantity, nullptr}, {"currency", nullptr, &Event::currency},
    {"order_id", nullptr, &Event::order_id}, {"product_id", nullptr, &Event::product_id},
};

const Column* FindColumn(std::string_view name) {
  for (const Column& c : kColumns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// The column's value in `e` as JSON; nullopt when the event leaves it empty.
std::optional<json> ColumnValue(const Event& e, const Column& c) {
  if (c.number != nullptr) {
    const std::optional<double>& d = e.*c.number;
    if (d && !std::isnan(*d)) return json(*d);
  } else if (!(e.*c.text).empty()) {
    return json(e.*c.text);
  }
  return std::nullopt;
}

template <typename List, typename T>
bool Contains(const List& list, const T& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

template <typename Names>
std::string JoinNames(const Names& names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

// `s` as a JSON string literal; invalid UTF-8 is replaced, never thrown on.
std::string Quote(std::string_view s) {
  return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

// "string \"12\"", "number 3.5", "boolean true", "null", "object", "array".
std::string Describe(const json& v) {
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s.size() > 64) s = s.substr(0, 64) + "...";
    return "string " + Quote(s);
  }
  if (v.is_number()) return "number " + v.dump();
  if (v.is_boolean()) return "boolean " + v.dump();
  if (v.is_null()) return "null";
  return v.is_object() ? "object" : "array";
}

// A value named in a plan error: a string as its literal, anything else described.
std::string Got(const json& v) {
  return v.is_string() ? Quote(v.get_ref<const std::string&>()) : Describe(v);
}

bool IsIntegral(double d) { return std::isfinite(d) && std::trunc(d) == d; }

bool TypeMatches(const json& v, PropertyType type) {
  using T = PropertyType;
  if (type == T::kInteger) {
    return v.is_number_integer() || (v.is_number_float() && IsIntegral(v.get<double>()));
  }
  return (type == T::kString && v.is_string()) || (type == T::kNumber && v.is_number()) ||
         (type == T::kBoolean && v.is_boolean()) || (type == T::kObject && v.is_object()) ||
         (type == T::kArray && v.is_array());
}

json EnumValueToJson(const EnumValue& v) {
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  double d = std::get<double>(v);
  if (IsIntegral(d) && std::fabs(d) < 9007199254740992.0) return static_cast<int64_t>(d);
  return d;
}

bool InEnum(const json& v, const std::vector<EnumValue>& allowed) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const EnumValue& a) {
    if (const auto* b = std::get_if<bool>(&a)) return v.is_boolean() && v.get<bool>() == *b;
    if (const auto* s = std::get_if<std::string>(&a)) {
      return v.is_string() && v.get_ref<const std::string&>() == *s;
    }
    return v.is_number() && v.get<double>() == std::get<double>(a);
  });
}

Status Error(const std::string& path, const std::string& message) {
  return Status::InvalidArgument(path + ": " + message);
}

std::string Child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

Status CheckKeys(const json& obj, const std::string& path,
                 std::initializer_list<std::string_view> allowed) {
  for (const auto& item : obj.items()) {
    if (!Contains(allowed, item.key())) {
      return Error(Child(path, item.key()), "unknown key; use one of " + JoinNames(allowed));
    }
  }
  return Status::OK();
}

Status ReadBool(const json& obj, const std::string& path, std::string_view key, bool* out) {
  auto it = obj.find(std::string(key));
  if (it == obj.end()) return Status::OK();
  if (!it->is_boolean()) return Error(Child(path, key), "must be a boolean, got " + Describe(*it));
  *out = it->get<bool>();
  return Status::OK();
}

// The position of string `v` in `names`; nullopt if it is not one of them.
template <size_t N>
std::optional<size_t> IndexOf(const std::array<std::string_view, N>& names, const json& v) {
  if (!v.is_string()) return std::nullopt;
  auto it = std::find(names.begin(), names.end(), v.get_ref<const std::string&>());
  return it == names.end() ? std::nullopt : std::optional<size_t>(it - names.begin());
}

Result<PlanMode> ParseMode(const json& v, const std::string& path) {
  if (auto i = IndexOf(kModeNames, v)) return static_cast<PlanMode>(*i);
  return Error(path, "unknown mode " + Got(v) + "; use one of " + JoinNames(kModeNames));
}

Result<PropertyRule> ParseProperty(const std::string& name, const json& j,
                                   const std::string& path) {
  if (!j.is_object()) return Error(path, "must be an object, got " + Describe(j));
  RETURN_IF_ERROR(CheckKeys(j, path, {"type", "required", "enum"}));
  PropertyRule rule;
  rule.name = name;
  auto type = j.find("type");
  auto index = type == j.end() ? std::nullopt : IndexOf(kTypeNames, *type);
  if (!index) {
    std::string got = type == j.end() ? "missing type" : "unknown type " + Got(*type);
    return Error(path + ".type", got + "; use one of " + JoinNames(kTypeNames));
  }
  rule.type = static_cast<PropertyType>(*index);
  bool numeric = rule.type == PropertyType::kNumber || rule.type == PropertyType::kInteger;
  if (const Column* c = FindColumn(name);
      c && (c->number ? !numeric : rule.type != PropertyType::kString)) {
    return Error(path + ".type",
                 Quote(name) + (c->number ? " is a typed number column; use number or integer"
                                          : " is a typed string column; use string"));
  }
  RETURN_IF_ERROR(ReadBool(j, path, "required", &rule.required));
  auto values = j.find("enum");
  if (values == j.end()) return rule;
  if (rule.type == PropertyType::kObject || rule.type == PropertyType::kArray) {
    return Error(path + ".enum", "enum applies only to string, number, integer and boolean");
  }
  if (!values->is_array() || values->empty()) {
    return Error(path + ".enum", "must be a non-empty array, got " + Describe(*values));
  }
  for (size_t i = 0; i < values->size(); ++i) {
    const json& v = (*values)[i];
    if (!TypeMatches(v, rule.type)) {
      return Error(path + ".enum[" + std::to_string(i) + "]",
                   "must be " + std::string(kTypeArticles[static_cast<size_t>(rule.type)]) +
                       ", got " + Describe(v));
    }
    rule.allowed.push_back(v.is_string()    ? EnumValue(v.get<std::string>())
                           : v.is_boolean() ? EnumValue(v.get<bool>())
                                            : EnumValue(v.get<double>()));
  }
  return rule;
}

Result<EventDefinition> ParseEvent(const json& j, const std::string& path) {
  if (!j.is_object()) return Error(path, "must be an object, got " + Describe(j));
  RETURN_IF_ERROR(
      CheckKeys(j, path, {"name", "types", "mode", "properties", "allow_other_properties"}));
  EventDefinition def;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return Error(path + ".name", "must be a non-empty string");
  }
  def.name = name->get<std::string>();
  def.types = {EventType::kTrack};
  if (auto types = j.find("types"); types != j.end()) {
    if (!types->is_array() || types->empty()) {
      return Error(path + ".types", "must be a non-empty array of event types");
    }
    def.types.clear();
    for (size_t i = 0; i < types->size(); ++i) {
      const json& v = (*types)[i];
      std::string at = path + ".types[" + std::to_string(i) + "]";
      auto type = v.is_string() ? EventTypeFromName(v.get_ref<const std::string&>()) : std::nullopt;
      if (!type) {
        std::string names;
        for (int t = 0; t < kEventTypeCount; ++t) {
          names += (t ? ", " : "") + std::string(EventTypeName(static_cast<EventType>(t)));
        }
        return Error(at, "unknown event type " + Got(v) + "; use one of " + names);
      }
      if (Contains(def.types, *type)) return Error(at, "duplicate type " + v.dump());
      def.types.push_back(*type);
    }
  }
  if (auto mode = j.find("mode"); mode != j.end()) {
    ASSIGN_OR_RETURN(def.mode, ParseMode(*mode, path + ".mode"));
  }
  if (auto props = j.find("properties"); props != j.end()) {
    if (!props->is_object()) {
      return Error(path + ".properties", "must be an object, got " + Describe(*props));
    }
    for (const auto& item : props->items()) {
      ASSIGN_OR_RETURN(PropertyRule rule,
                       ParseProperty(item.key(), item.value(), path + ".properties." + item.key()));
      def.properties.push_back(std::move(rule));
    }
  }
  RETURN_IF_ERROR(ReadBool(j, path, "allow_other_properties", &def.allow_other_properties));
  return def;
}

// nlohmann silently keeps one of two equal keys; a plan must not lose a rule
// that way. This parse callback tracks one frame per open object or array and
// records the path of the first duplicate key in `duplicate`.
struct DuplicateKeyGuard {
  struct Frame {
    bool array = false;
    size_t index = 0;
    std::string key;
    std::set<std::string> keys;
  };
  std::vector<Frame> frames;
  std::string duplicate;  // empty if none

  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    using E = json::parse_event_t;
    if (event == E::object_start || event == E::array_start) {
      frames.emplace_back().array = event == E::array_start;
    } else if (event == E::key) {
      frames.back().key = parsed.get<std::string>();
      if (!frames.back().keys.insert(frames.back().key).second && duplicate.empty()) {
        for (const Frame& f : frames) {
          duplicate =
              f.array ? duplicate + "[" + std::to_string(f.index) + "]" : Child(duplicate, f.key);
        }
      }
    } else {  // a value ended: advance the enclosing array
      if (event != E::value) frames.pop_back();
      if (!frames.empty() && frames.back().array) ++frames.back().index;
    }
    return true;
  }
};

Validation Decide(PlanMode mode, std::vector<Violation> violations) {
  if (mode == PlanMode::kAllow || violations.empty()) return {};
  auto verdict = mode == PlanMode::kFlag ? Validation::Verdict::kFlag : Validation::Verdict::kBlock;
  return {verdict, std::move(violations)};
}

std::vector<Violation> CheckProperties(const EventDefinition& def, const Event& event) {
  std::vector<Violation> out;
  json props = json::object();
  bool props_known = true;
  if (!event.properties_json.empty()) {
    props = json::parse(event.properties_json, nullptr, /*allow_exceptions=*/false);
    if (!props.is_object()) {
      out.push_back({"invalid_properties_json", "", "properties_json is not a JSON object"});
      props = json::object();
      props_known = false;
    }
  }
  for (const PropertyRule& rule : def.properties) {
    const Column* col = FindColumn(rule.name);
    std::optional<json> column = col ? ColumnValue(event, *col) : std::nullopt;
    const json* value = column ? &*column : nullptr;
    if (auto it = props.find(rule.name); value == nullptr && it != props.end()) value = &*it;
    if (value == nullptr) {
      if (rule.required && (props_known || col != nullptr)) {
        out.push_back({"missing_required", rule.name,
                       "required property " + Quote(rule.name) + " is missing"});
      }
    } else if (!TypeMatches(*value, rule.type)) {
      out.push_back({"wrong_type", rule.name,
                     "property " + Quote(rule.name) + " must be " +
                         std::string(kTypeArticles[static_cast<size_t>(rule.type)]) + ", got " +
                         Describe(*value)});
    } else if (!rule.allowed.empty() && !InEnum(*value, rule.allowed)) {
      std::string list;
      for (const EnumValue& a : rule.allowed) {
        list += (list.empty() ? "" : ", ") + EnumValueToJson(a).dump();
      }
      out.push_back({"not_in_enum", rule.name,
                     "property " + Quote(rule.name) + " must be one of " + list + ", got " +
                         Describe(*value)});
    }
  }
  if (!def.allow_other_properties) {
    auto planned = [&](std::string_view key) {
      return std::any_of(def.properties.begin(), def.properties.end(),
                         [&](const PropertyRule& r) { return r.name == key; });
    };
    std::set<std::string> extra;  // sorted, and a key in both places counts once
    for (const auto& item : props.items()) {
      if (!planned(item.key())) extra.insert(item.key());
    }
    for (const Column& c : kColumns) {
      if (!planned(c.name) && ColumnValue(event, c)) extra.emplace(c.name);
    }
    for (const std::string& key : extra) {
      out.push_back(
          {"unexpected_property", key,
           "property " + Quote(key) + " is not in the plan for event " + Quote(def.name)});
    }
  }
  return out;
}

}  // namespace

std::string_view PlanModeName(PlanMode mode) { return kModeNames[static_cast<size_t>(mode)]; }

std::string_view PropertyTypeName(PropertyType type) {
  return kTypeNames[static_cast<size_t>(type)];
}

Result<TrackingPlan> TrackingPlan::Parse(std::string_view json_text) {
  json doc;
  DuplicateKeyGuard guard;
  try {
    doc = json::parse(json_text.begin(), json_text.end(),
                      [&guard](int depth, json::parse_event_t event, json& parsed) {
                        return guard(depth, event, parsed);
                      });
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("plan: invalid JSON: ") + e.what());
  }
  if (!guard.duplicate.empty()) return Error(guard.duplicate, "duplicate key");
  if (!doc.is_object()) return Error("plan", "must be a JSON object, got " + Describe(doc));
  RETURN_IF_ERROR(CheckKeys(doc, "", {"mode", "unplanned", "events"}));
  TrackingPlan plan;
  if (auto mode = doc.find("mode"); mode != doc.end()) {
    ASSIGN_OR_RETURN(plan.mode_, ParseMode(*mode, "mode"));
  }
  if (auto unplanned = doc.find("unplanned"); unplanned != doc.end()) {
    ASSIGN_OR_RETURN(plan.unplanned_, ParseMode(*unplanned, "unplanned"));
  }
  auto events = doc.find("events");
  if (events == doc.end() || !events->is_array()) {
    return Error("events", "must be an array of event definitions");
  }
  for (size_t i = 0; i < events->size(); ++i) {
    std::string path = "events[" + std::to_string(i) + "]";
    ASSIGN_OR_RETURN(EventDefinition def, ParseEvent((*events)[i], path));
    auto [it, inserted] = plan.by_name_.emplace(def.name, i);
    if (!inserted) {
      return Error(path + ".name", "duplicate event " + Quote(def.name) + " (also events[" +
                                       std::to_string(it->second) + "])");
    }
    for (EventType t : def.types) plan.governed_types_ |= 1u << static_cast<int>(t);
    plan.events_.push_back(std::move(def));
  }
  return plan;
}

Validation TrackingPlan::Check(const Event& event) const {
  const EventDefinition* def = nullptr;
  if (auto it = by_name_.find(event.name); it != by_name_.end()) {
    if (Contains(events_[it->second].types, event.type)) def = &events_[it->second];
  }
  if (def == nullptr) {
    bool governed = ((governed_types_ >> static_cast<int>(event.type)) & 1u) != 0;
    if (unplanned_ == PlanMode::kAllow || event.name.empty() || !governed) return {};
    return Decide(unplanned_,
                  {{"unplanned_event", "",
                    "event " + Quote(event.name) + " (" + std::string(EventTypeName(event.type)) +
                        ") is not in the tracking plan"}});
  }
  PlanMode mode = def->mode.value_or(mode_);
  if (mode == PlanMode::kAllow) return {};
  return Decide(mode, CheckProperties(*def, event));
}

std::string TrackingPlan::ToJson() const {
  json events = json::array();
  for (const EventDefinition& def : events_) {
    json types = json::array();
    for (EventType t : def.types) types.push_back(EventTypeName(t));
    json props = json::object();
    for (const PropertyRule& rule : def.properties) {
      json p = {{"type", PropertyTypeName(rule.type)}, {"required", rule.required}};
      for (const EnumValue& a : rule.allowed) p["enum"].push_back(EnumValueToJson(a));
      props[rule.name] = std::move(p);
    }
    json e = {{"name", def.name}, {"types", std::move(types)}};
    if (def.mode) e["mode"] = PlanModeName(*def.mode);
    e["properties"] = std::move(props);
    e["allow_other_properties"] = def.allow_other_properties;
    events.push_back(std::move(e));
  }
  json doc = {{"mode", PlanModeName(mode_)},
              {"unplanned", PlanModeName(unplanned_)},
              {"events", std::move(events)}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace quanyu::privacy
