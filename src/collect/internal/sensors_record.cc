#include "collect/internal/sensors_record.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "collect/internal/json_read.h"
#include "collect/internal/url.h"
#include "common/json_text.h"

namespace quanyu::collect::internal {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// Largest `time` accepted: 9999-12-31T23:59:59.999Z in milliseconds.
constexpr int64_t kMaxMillis = 253'402'300'799'999;

// SDK presets that describe the library, device and network rather than the
// event; they go to context_json, like Segment's context.
constexpr std::string_view kContextProperties[] = {
    // library
    "$lib", "$lib_version", "$lib_method", "$lib_detail", "$lib_plugin_version",
    // app
    "$app_id", "$app_name", "$app_version", "$mp_client_app_version",
    "$mp_client_basic_library_version",
    // device and browser
    "$os", "$os_version", "$model", "$manufacturer", "$brand", "$browser", "$browser_version",
    "$browser_language", "$screen_width", "$screen_height", "$screen_orientation",
    "$viewport_width", "$viewport_height", "$device_id", "$timezone_offset",
    // network
    "$network_type", "$carrier", "$wifi", "$ip", "$user_agent"};

bool IsContextProperty(std::string_view key) {
  return std::find(std::begin(kContextProperties), std::end(kContextProperties), key) !=
         std::end(kContextProperties);
}

// identities keys with a fixed namespace; see MapIdentityKey for the rest.
constexpr std::pair<std::string_view, std::string_view> kIdentityKeys[] = {
    {"$identity_login_id", "user_id"},
    {"$identity_anonymous_id", "anonymous_id"},
    {"$identity_cookie_id", "anonymous_id"},
    {"$identity_mp_id", "anonymous_id"},
    {"$identity_mobile", "phone"},
    {"$identity_email", "email"},
    {"$identity_android_id", "device_id"},
    {"$identity_android_uuid", "device_id"},
    {"$identity_ios_uuid", "device_id"},
    {"$identity_android_oaid", "oaid"},
    {"$identity_oaid", "oaid"},
    {"$identity_idfa", "idfa"},
    {"$identity_idfv", "idfv"},
    {"$identity_mp_openid", "wechat_openid"},
    {"$identity_mp_unionid", "wechat_unionid"}};

constexpr std::string_view kIdentityPrefix = "$identity_";

}  // namespace

namespace {

RecordError WrongType(std::string_view what, std::string_view expected, const element& v) {
  return {"wrong_type",
          fmt::format("{} must be {}, not {}", what, expected, JsonTypeName(v.type()))};
}

// Identifier-like values: strings as-is, integers formatted (SDKs send
// numeric ids), null or absent as "".
std::optional<RecordError> ReadIdString(const element& v, std::string_view what, std::string* out) {
  if (!IdStringOf(v, out)) return WrongType(what, "a string", v);
  return std::nullopt;
}

std::optional<RecordError> ReadIdField(const object& obj, std::string_view key, std::string* out) {
  element v;
  if (obj.at_key(key).get(v)) return std::nullopt;
  return ReadIdString(v, key, out);
}

std::optional<RecordError> ReadObject(const object& obj, std::string_view key, object* out,
                                      bool* present) {
  element v;
  *present = false;
  if (obj.at_key(key).get(v) || v.is_null()) return std::nullopt;
  if (!v.is_object()) return WrongType(key, "an object", v);
  *out = v.get_object().value_unsafe();
  *present = true;
  return std::nullopt;
}

// `time`: epoch milliseconds; absent or null means "when received".
std::optional<RecordError> ReadTime(const object& obj, int64_t received_us, int64_t* out) {
  *out = received_us;
  element v;
  if (obj.at_key("time").get(v) || v.is_null()) return std::nullopt;
  double ms = 0;
  if (v.is_int64()) {
    ms = static_cast<double>(v.get_int64().value_unsafe());
  } else if (v.is_number()) {
    ms = v.get_double().value_unsafe();
  } else {
    return RecordError{"invalid_timestamp", fmt::format("time must be epoch milliseconds, not {}",
                                                        JsonTypeName(v.type()))};
  }
  if (!(ms >= 0 && ms <= static_cast<double>(kMaxMillis))) {
    return RecordError{"invalid_timestamp",
                       fmt::format("time {} is outside 0..{} epoch milliseconds", ms, kMaxMillis)};
  }
  *out = v.is_int64() ? v.get_int64().value_unsafe() * 1000 : static_cast<int64_t>(ms * 1000.0);
  return std::nullopt;
}

// `_track_id`: the SDK's per-record random id (a signed 32-bit int from the
// app SDKs), used as the messageId.
std::optional<RecordError> ReadTrackId(const object& obj, std::string* out) {
  element v;
  if (obj.at_key("_track_id").get(v)) return std::nullopt;
  if (v.is_double()) {
    double d = v.get_double().value_unsafe();
    if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9e15) {
      *out = std::to_string(static_cast<int64_t>(d));
      return std::nullopt;
    }
    return WrongType("_track_id", "an integer", v);
  }
  return ReadIdString(v, "_track_id", out);
}

std::optional<std::string> ToIdLike(const element& v) {
  std::string s;
  if (v.is_string() || v.is_int64() || v.is_uint64()) {
    (void)ReadIdString(v, "", &s);
    return s;
  }
  return std::nullopt;
}

void AddIdentifier(Event* e, std::string_view ns, std::string_view scope, std::string_view value) {
  if (value.empty()) return;
  Identifier id{std::string(ns), std::string(scope), std::string(value)};
  if (std::find(e->identifiers.begin(), e->identifiers.end(), id) == e->identifiers.end()) {
    e->identifiers.push_back(std::move(id));
  }
}

bool LooksLikeWechatAppId(std::string_view s) { return s.size() == 18 && s.substr(0, 2) == "wx"; }

// Maps an `identities` key onto (namespace, scope).
std::pair<std::string, std::string> MapIdentityKey(std::string_view key, std::string_view app_id) {
  for (auto [k, ns] : kIdentityKeys) {
    if (k == key) {
      std::string scope;
      if (ns == "wechat_openid" && LooksLikeWechatAppId(app_id)) scope = std::string(app_id);
      return {std::string(ns), scope};
    }
  }
  // The mini-program SDK names a scoped openid "$identity_mp_<appid>_openid".
  constexpr std::string_view kMp = "$identity_mp_", kOpenid = "_openid";
  if (key.size() > kMp.size() + kOpenid.size() && key.substr(0, kMp.size()) == kMp &&
      key.substr(key.size() - kOpenid.size()) == kOpenid) {
    return {"wechat_openid",
            std::string(key.substr(kMp.size(), key.size() - kMp.size() - kOpenid.size()))};
  }
  if (key.substr(0, kIdentityPrefix.size()) == kIdentityPrefix) {
    key.remove_prefix(kIdentityPrefix.size());
  }
  return {std::string(key), ""};
}

// Appends `"key":<value>` to a JSON object under construction ("{" initially).
template <typename Json>  // element or object
void AppendMember(std::string* out, std::string_view key, const Json& v) {
  if (out->size() > 1) out->push_back(',');
  AppendJsonString(out, key);
  out->push_back(':');
  *out += simdjson::minify(v);
}

std::string CloseObject(std::string* out) {
  if (out->size() <= 1) return "";
  out->push_back('}');
  return std::move(*out);
}

// The revenue key used for the typed column: the first of revenue, $revenue,
// order_amount whose value is numeric. The others stay in properties_json.
std::string_view ChooseRevenueKey(const object& props, double* revenue) {
  for (std::string_view key : {"revenue", "$revenue", "order_amount"}) {
    element v;
    if (props.at_key(key).get(v)) continue;
    if (auto d = ToNumber(v)) {
      *revenue = *d;
      return key;
    }
  }
  return {};
}

// The text column a track property fills, or nullptr.
std::string* TextColumn(std::string_view key, Event* e) {
  if (key == "$utm_source") return &e->campaign.source;
  if (key == "$utm_medium") return &e->campaign.medium;
  if (key == "$utm_campaign") return &e->campaign.name;
  if (key == "$utm_term") return &e->campaign.term;
  if (key == "$utm_content") return &e->campaign.content;
  if (key == "$referrer") return &e->referrer;
  if (key == "$url") return &e->url;
  if (key == "currency") return &e->currency;
  return nullptr;
}

// Lifts campaign, page and commerce properties of a track-like record into
// typed fields. Returns true if `key` was consumed; a value of an unexpected
// type is not, and stays in properties_json.
bool LiftTrackProperty(std::string_view key, const element& v, std::string_view revenue_key,
                       Event* e) {
  if (key == revenue_key) return true;
  if (std::string* column = TextColumn(key, e)) {
    if (!v.is_string()) return false;
    *column = std::string(v.get_string().value_unsafe());
    return true;
  }
  if (key == "order_id" || key == "product_id") {
    auto id = ToIdLike(v);
    if (!id) return false;
    (key == "order_id" ? e->order_id : e->product_id) = std::move(*id);
    return true;
  }
  if (key == "quantity") {
    e->quantity = ToNumber(v);
    return e->quantity.has_value();
  }
  return false;
}

bool IsProfileType(EventType t) {
  return t >= EventType::kProfileSet && t <= EventType::kProfileDelete;
}

std::optional<RecordError> ReadType(const object& obj, EventType* type) {
  element v;
  if (obj.at_key("type").get(v) || v.is_null()) {
    return RecordError{"unknown_type", "record without a type"};
  }
  if (!v.is_string()) return WrongType("type", "a string", v);
  std::string_view name = v.get_string().value_unsafe();
  auto t = EventTypeFromName(name);
  if (!t || (*t != EventType::kTrack && *t < EventType::kTrackSignup) ||
      *t > EventType::kIdUnbind) {
    return RecordError{"unknown_type", fmt::format("unknown record type \"{}\"", name)};
  }
  *type = *t;
  return std::nullopt;
}

std::optional<RecordError> ReadName(const object& obj, EventType type, std::string* name) {
  element v;
  if (!obj.at_key("event").get(v) && !v.is_null()) {
    if (!v.is_string()) return WrongType("event", "a string", v);
    *name = std::string(v.get_string().value_unsafe());
  }
  if (!name->empty() || IsProfileType(type)) return std::nullopt;
  switch (type) {
    case EventType::kTrack:
      return RecordError{"missing_event", "track needs a non-empty event"};
    case EventType::kTrackSignup:
      *name = "$SignUp";
      break;
    case EventType::kIdBind:
      *name = "$BindID";
      break;
    case EventType::kIdUnbind:
      *name = "$UnbindID";
      break;
    default:
      break;
  }
  return std::nullopt;
}

// distinct_id / login_id / anonymous_id / original_id / identities →
// user_id, anonymous_id and the identifiers carried.
std::optional<RecordError> ReadIdentity(const object& obj, bool has_props, const object& props,
                                        EventType type, Event* e) {
  std::string distinct_id, login_id, anonymous_id, original_id, app_id;
  if (auto err = ReadIdField(obj, "distinct_id", &distinct_id)) return err;
  if (auto err = ReadIdField(obj, "login_id", &login_id)) return err;
  if (auto err = ReadIdField(obj, "anonymous_id", &anonymous_id)) return err;
  if (auto err = ReadIdField(obj, "original_id", &original_id)) return err;
  bool is_login = type == EventType::kTrackSignup;  // distinct_id of $SignUp is the login id
  element flag, app;
  if (has_props && !props.at_key("$is_login_id").get(flag) && flag.is_bool()) {
    is_login = is_login || flag.get_bool().value_unsafe();
  }
  if (has_props && !props.at_key("$app_id").get(app) && app.is_string()) {
    app_id = std::string(app.get_string().value_unsafe());
  }
  object identities;
  bool has_identities;
  if (auto err = ReadObject(obj, "identities", &identities, &has_identities)) return err;

  std::vector<Identifier> from_identities;
  if (has_identities) {
    for (auto [key, v] : identities) {
      std::string value;
      if (auto err = ReadIdString(v, fmt::format("identities.{}", key), &value)) return err;
      if (value.empty()) continue;
      auto [ns, scope] = MapIdentityKey(key, app_id);
      from_identities.push_back({std::move(ns), std::move(scope), std::move(value)});
    }
  }
  auto identity_value = [&](std::string_view ns) -> std::string {
    for (const auto& id : from_identities) {
      if (id.ns == ns) return id.value;
    }
    return "";
  };

  if (!login_id.empty()) {
    e->user_id = login_id;  // distinct_id then is the login id too
  } else if (is_login) {
    e->user_id = distinct_id;
  } else {
    e->user_id = identity_value("user_id");
  }
  if (!anonymous_id.empty()) {
    e->anonymous_id = anonymous_id;
  } else if (login_id.empty() && !is_login && !distinct_id.empty()) {
    e->anonymous_id = distinct_id;
  } else if (!original_id.empty()) {
    e->anonymous_id = original_id;
  } else {
    e->anonymous_id = identity_value("anonymous_id");
  }

  if (type == EventType::kIdUnbind) {
    // Only the identities are what to unbind; distinct_id just names the user.
    for (const auto& id : from_identities) AddIdentifier(e, id.ns, id.scope, id.value);
    if (e->identifiers.empty()) {
      return RecordError{"missing_identity",
                         "track_id_unbind needs the identity to unbind in identities"};
    }
    return std::nullopt;
  }
  AddIdentifier(e, "user_id", "", e->user_id);
  AddIdentifier(e, "anonymous_id", "", e->anonymous_id);
  if (type == EventType::kTrackSignup) AddIdentifier(e, "anonymous_id", "", original_id);
  for (const auto& id : from_identities) AddIdentifier(e, id.ns, id.scope, id.value);
  if (e->identifiers.empty()) {
    return RecordError{"missing_identity",
                       "every record needs a distinct_id, login_id, anonymous_id or identities"};
  }
  return std::nullopt;
}

}  // namespace

std::optional<RecordError> ParseSensorsRecord(const object& obj, int64_t received_us, Event* e) {
  e->received_us = received_us;
  if (auto err = ReadType(obj, &e->type)) return err;
  if (auto err = ReadName(obj, e->type, &e->name)) return err;
  if (auto err = ReadTime(obj, received_us, &e->timestamp_us)) return err;
  if (auto err = ReadTrackId(obj, &e->message_id)) return err;

  object props, lib;
  bool has_props, has_lib;
  if (auto err = ReadObject(obj, "properties", &props, &has_props)) return err;
  if (auto err = ReadObject(obj, "lib", &lib, &has_lib)) return err;
  if (auto err = ReadIdentity(obj, has_props, props, e->type, e)) return err;

  std::string context = "{";
  if (has_lib) AppendMember(&context, "lib", lib);
  for (std::string_view key : {"project", "_flush_time"}) {
    element v;
    if (!obj.at_key(key).get(v) && !v.is_null()) AppendMember(&context, key, v);
  }
  std::string rest = "{";
  if (has_props) {
    const bool profile = IsProfileType(e->type);
    double revenue = 0;
    std::string_view revenue_key = profile ? std::string_view() : ChooseRevenueKey(props, &revenue);
    if (!revenue_key.empty()) e->revenue = revenue;
    for (auto [key, v] : props) {
      if (key == "$is_login_id") continue;
      if (IsContextProperty(key)) {
        AppendMember(&context, key, v);
      } else if (profile || !LiftTrackProperty(key, v, revenue_key, e)) {
        AppendMember(&rest, key, v);
      }
    }
  }
  if (e->campaign.empty() && !e->url.empty()) CampaignFromUrl(e->url, &e->campaign);
  (IsProfileType(e->type) ? e->traits_json : e->properties_json) = CloseObject(&rest);
  e->context_json = CloseObject(&context);
  return std::nullopt;
}

}  // namespace quanyu::collect::internal
