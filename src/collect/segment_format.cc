#include "collect/segment_format.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <string>

#include "collect/internal/json_read.h"
#include "collect/internal/url.h"
#include "common/json_text.h"
#include "common/time_util.h"

namespace quanyu::collect {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// Properties lifted into typed columns; they are not repeated in properties_json.
constexpr std::string_view kTypedProperties[] = {"revenue",  "value",   "quantity",   "currency",
                                                 "order_id", "orderId", "product_id", "productId"};

bool IsTypedProperty(std::string_view key) {
  for (auto k : kTypedProperties) {
    if (k == key) return true;
  }
  return false;
}

// A per-event failure: reason code for /metrics, message for the client.
struct EventError {
  std::string reason;
  std::string message;
};

std::optional<EventType> TypeForEndpoint(std::string_view endpoint) {
  if (endpoint == "track" || endpoint == "t") return EventType::kTrack;
  if (endpoint == "identify" || endpoint == "i") return EventType::kIdentify;
  if (endpoint == "page" || endpoint == "p") return EventType::kPage;
  if (endpoint == "screen" || endpoint == "s") return EventType::kScreen;
  if (endpoint == "group" || endpoint == "g") return EventType::kGroup;
  if (endpoint == "alias" || endpoint == "a") return EventType::kAlias;
  return std::nullopt;
}

std::optional<EventType> TypeForName(std::string_view name) {
  if (name == "track") return EventType::kTrack;
  if (name == "identify") return EventType::kIdentify;
  if (name == "page") return EventType::kPage;
  if (name == "screen") return EventType::kScreen;
  if (name == "group") return EventType::kGroup;
  if (name == "alias") return EventType::kAlias;
  return std::nullopt;
}

// Reads an optional string-like field: strings as-is, numbers formatted
// (SDKs send numeric user ids), null/absent as empty.
std::optional<EventError> ReadIdString(const object& obj, std::string_view key, std::string* out) {
  element v;
  if (obj.at_key(key).get(v) || v.is_null()) return std::nullopt;
  if (!internal::IdStringOf(v, out)) {
    return EventError{"wrong_type", std::string(key) + " must be a string, not " +
                                        internal::JsonTypeName(v.type())};
  }
  return std::nullopt;
}

std::optional<EventError> ReadString(const object& obj, std::string_view key, std::string* out) {
  element v;
  if (obj.at_key(key).get(v) || v.is_null()) return std::nullopt;
  if (!v.is_string()) {
    return EventError{"wrong_type", std::string(key) + " must be a string, not " +
                                        internal::JsonTypeName(v.type())};
  }
  *out = std::string(v.get_string().value_unsafe());
  return std::nullopt;
}

std::optional<EventError> ReadObject(const object& obj, std::string_view key, object* out,
                                     bool* present) {
  element v;
  *present = false;
  if (obj.at_key(key).get(v) || v.is_null()) return std::nullopt;
  if (!v.is_object()) {
    return EventError{"wrong_type", std::string(key) + " must be an object, not " +
                                        internal::JsonTypeName(v.type())};
  }
  *out = v.get_object().value_unsafe();
  *present = true;
  return std::nullopt;
}

std::optional<EventError> ReadTime(const object& obj, std::string_view key,
                                   std::optional<int64_t>* out) {
  element v;
  if (obj.at_key(key).get(v) || v.is_null()) return std::nullopt;
  if (v.is_string()) {
    auto t = ParseTimestamp(v.get_string().value_unsafe());
    if (!t.ok())
      return EventError{"invalid_timestamp", std::string(key) + ": " + t.status().message()};
    *out = *t;
    return std::nullopt;
  }
  if (v.is_number()) {  // epoch milliseconds, as some SDKs send
    *out = static_cast<int64_t>(v.get_double().value_unsafe() * 1000.0);
    return std::nullopt;
  }
  return EventError{"wrong_type", std::string(key) + " must be an ISO-8601 string"};
}

std::string ScalarToString(const element& v) {
  if (v.is_string()) return std::string(v.get_string().value_unsafe());
  if (v.is_int64()) return std::to_string(v.get_int64().value_unsafe());
  if (v.is_uint64()) return std::to_string(v.get_uint64().value_unsafe());
  if (v.is_double()) return fmt::format("{}", v.get_double().value_unsafe());
  return "";
}

// Lifts typed commerce properties and serializes the rest.
void ReadProperties(const object& props, Event* e) {
  std::string rest = "{";
  for (auto [key, v] : props) {
    if (IsTypedProperty(key)) {
      if (key == "revenue") {
        e->revenue = internal::ToNumber(v);
        if (e->revenue) continue;
      } else if (key == "value") {
        e->value = internal::ToNumber(v);
        if (e->value) continue;
      } else if (key == "quantity") {
        e->quantity = internal::ToNumber(v);
        if (e->quantity) continue;
      } else if (key == "currency" && v.is_string()) {
        e->currency = std::string(v.get_string().value_unsafe());
        continue;
      } else if ((key == "order_id" || key == "orderId") && (v.is_string() || v.is_number())) {
        e->order_id = ScalarToString(v);
        continue;
      } else if ((key == "product_id" || key == "productId") && (v.is_string() || v.is_number())) {
        e->product_id = ScalarToString(v);
        continue;
      }
      // A typed key of an unexpected type stays in the JSON, untouched.
    }
    if (rest.size() > 1) rest.push_back(',');
    AppendJsonString(&rest, key);
    rest.push_back(':');
    rest += simdjson::minify(v);
  }
  if (rest.size() > 1) e->properties_json = rest + "}";
}

void AddTraitIdentifiers(const object& traits, Event* e) {
  static constexpr std::pair<std::string_view, std::string_view> kTraitIds[] = {
      {"phone", "phone"},
      {"email", "email"},
      {"member_id", "member_id"},
      {"memberId", "member_id"},
      {"unionid", "wechat_unionid"}};
  for (auto [key, ns] : kTraitIds) {
    element v;
    if (!traits.at_key(key).get(v) && (v.is_string() || v.is_number())) {
      e->identifiers.push_back({std::string(ns), "", ScalarToString(v)});
    }
  }
}

std::optional<EventError> ReadExternalIds(const object& context, Event* e) {
  element v;
  if (context.at_key("externalIds").get(v) || v.is_null()) return std::nullopt;
  if (!v.is_array()) return EventError{"wrong_type", "context.externalIds must be an array"};
  simdjson::dom::array ids = v.get_array().value_unsafe();
  for (element item : ids) {
    if (!item.is_object())
      return EventError{"wrong_type", "context.externalIds entries must be objects"};
    object o = item.get_object().value_unsafe();
    std::string id, type;
    if (auto err = ReadIdString(o, "id", &id)) return err;
    if (auto err = ReadString(o, "type", &type)) return err;
    if (type.empty()) return EventError{"wrong_type", "context.externalIds entry without type"};
    Identifier ident;
    auto colon = type.find(':');
    ident.ns = type.substr(0, colon);
    if (colon != std::string::npos) ident.scope = type.substr(colon + 1);
    ident.value = std::move(id);
    e->identifiers.push_back(std::move(ident));
  }
  return std::nullopt;
}

// `require_user_or_anonymous`: the HTTP API insists on userId or anonymousId
// as Segment does; files (imports, our own exports) may identify a person by
// other identifiers only (e.g. an offline order with just a Taobao nick).
std::optional<EventError> ParseEvent(const object& obj, EventType type, int64_t received_us,
                                     std::optional<int64_t> batch_sent_at, Event* e,
                                     bool require_user_or_anonymous = true) {
  e->type = type;
  e->received_us = received_us;
  if (auto err = ReadIdString(obj, "userId", &e->user_id)) return err;
  if (auto err = ReadIdString(obj, "anonymousId", &e->anonymous_id)) return err;
  if (auto err = ReadString(obj, "messageId", &e->message_id)) return err;

  std::string previous_id;
  if (type == EventType::kAlias) {
    if (auto err = ReadIdString(obj, "previousId", &previous_id)) return err;
    if (previous_id.empty() || e->user_id.empty()) {
      return EventError{"missing_identity", "alias needs both previousId and userId"};
    }
  } else if (require_user_or_anonymous && e->user_id.empty() && e->anonymous_id.empty()) {
    return EventError{"missing_identity", "every event needs a userId or an anonymousId"};
  }

  if (type == EventType::kTrack) {
    if (auto err = ReadString(obj, "event", &e->name)) return err;
    if (e->name.empty()) return EventError{"missing_event", "track needs a non-empty event name"};
  } else if (type == EventType::kPage || type == EventType::kScreen) {
    if (auto err = ReadString(obj, "name", &e->name)) return err;
  }

  // Event time with clock-skew correction.
  std::optional<int64_t> timestamp, sent_at, original;
  if (auto err = ReadTime(obj, "timestamp", &timestamp)) return err;
  if (auto err = ReadTime(obj, "sentAt", &sent_at)) return err;
  if (auto err = ReadTime(obj, "originalTimestamp", &original)) return err;
  if (!sent_at) sent_at = batch_sent_at;
  if (timestamp) {
    e->timestamp_us = *timestamp;
  } else if (original && sent_at) {
    e->timestamp_us = received_us - (*sent_at - *original);
  } else if (original) {
    e->timestamp_us = *original;
  } else {
    e->timestamp_us = received_us;
  }

  object props, traits, context;
  bool has_props, has_traits, has_context;
  if (auto err = ReadObject(obj, "properties", &props, &has_props)) return err;
  if (auto err = ReadObject(obj, "traits", &traits, &has_traits)) return err;
  if (auto err = ReadObject(obj, "context", &context, &has_context)) return err;
  if (has_props) ReadProperties(props, e);
  if (has_traits) {
    e->traits_json = simdjson::minify(traits);
    AddTraitIdentifiers(traits, e);
  }
  if (type == EventType::kGroup) {
    std::string group_id;
    if (auto err = ReadIdString(obj, "groupId", &group_id)) return err;
    if (group_id.empty()) return EventError{"missing_group", "group needs a groupId"};
    std::string p = "{\"groupId\":";
    AppendJsonString(&p, group_id);
    e->properties_json = p + "}";
  }

  std::string page_url, page_referrer;
  if (has_context) {
    e->context_json = simdjson::minify(context);
    object ctx_traits, campaign, page;
    bool has_ctx_traits, has_campaign, has_page;
    if (auto err = ReadObject(context, "traits", &ctx_traits, &has_ctx_traits)) return err;
    if (has_ctx_traits) AddTraitIdentifiers(ctx_traits, e);
    if (auto err = ReadExternalIds(context, e)) return err;
    if (auto err = ReadObject(context, "campaign", &campaign, &has_campaign)) return err;
    if (has_campaign) {
      ReadString(campaign, "source", &e->campaign.source);
      ReadString(campaign, "medium", &e->campaign.medium);
      ReadString(campaign, "name", &e->campaign.name);
      ReadString(campaign, "term", &e->campaign.term);
      ReadString(campaign, "content", &e->campaign.content);
    }
    if (auto err = ReadObject(context, "page", &page, &has_page)) return err;
    if (has_page) {
      ReadString(page, "url", &page_url);
      ReadString(page, "referrer", &page_referrer);
    }
  }
  if (has_props) {  // page() puts url/referrer in properties too
    if (page_url.empty()) ReadString(props, "url", &page_url);
    if (page_referrer.empty()) ReadString(props, "referrer", &page_referrer);
  }
  e->url = std::move(page_url);
  e->referrer = std::move(page_referrer);
  if (e->campaign.empty() && !e->url.empty()) internal::CampaignFromUrl(e->url, &e->campaign);

  // Identifiers as sent; normalize.cc cleans them.
  if (!e->user_id.empty()) e->identifiers.push_back({"user_id", "", e->user_id});
  if (!e->anonymous_id.empty()) e->identifiers.push_back({"anonymous_id", "", e->anonymous_id});
  if (!previous_id.empty()) e->identifiers.push_back({"previous_id", "", previous_id});
  return std::nullopt;
}

}  // namespace

Result<ParsedRequest> ParseSegmentRequest(std::string_view body, std::string_view endpoint,
                                          int64_t received_us, const Limits& limits) {
  if (body.size() > limits.max_batch_bytes) {
    return Status::PayloadTooLarge("request body of " + std::to_string(body.size()) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(limits.max_batch_bytes));
  }
  bool is_batch = endpoint == "batch" || endpoint == "b" || endpoint == "import";
  std::optional<EventType> single_type = TypeForEndpoint(endpoint);
  if (!is_batch && !single_type) {
    return Status::NotFound("unknown endpoint /v1/" + std::string(endpoint));
  }
  thread_local simdjson::dom::parser parser;
  element root;
  if (auto error = parser.parse(body.data(), body.size()).get(root)) {
    return Status::InvalidArgument(std::string("body is not valid JSON: ") +
                                   simdjson::error_message(error));
  }
  if (!root.is_object()) return Status::InvalidArgument("body must be a JSON object");
  object top = root.get_object().value_unsafe();

  ParsedRequest out;
  {
    std::string key;
    if (auto err = ReadString(top, "writeKey", &key)) return Status::InvalidArgument(err->message);
    out.write_key = std::move(key);
  }

  // An event's size is measured as its minified JSON. Serializing every
  // event just to measure it is costly, so the measure is skipped when the
  // whole body is within the per-event limit (no event can exceed it).
  bool measure_events = body.size() > limits.max_event_bytes;
  auto parse_one = [&](const object& obj, int index, EventType type,
                       std::optional<int64_t> batch_sent_at) {
    if (measure_events) {
      size_t size = simdjson::minify(obj).size();
      if (size > limits.max_event_bytes) {
        out.rejected.push_back({index, "event_too_large",
                                "event of " + std::to_string(size) +
                                    " bytes exceeds the limit of " +
                                    std::to_string(limits.max_event_bytes)});
        return;
      }
    }
    Event e;
    if (auto err = ParseEvent(obj, type, received_us, batch_sent_at, &e)) {
      out.rejected.push_back({index, err->reason, err->message});
      return;
    }
    out.events.push_back(std::move(e));
  };

  if (!is_batch) {
    parse_one(top, 0, *single_type, std::nullopt);
    return out;
  }

  element batch;
  if (top.at_key("batch").get(batch))
    return Status::InvalidArgument("batch request without a \"batch\" array");
  if (!batch.is_array()) return Status::InvalidArgument("\"batch\" must be an array");
  auto array = batch.get_array().value_unsafe();
  if (array.size() > limits.max_batch_events) {
    return Status::PayloadTooLarge("batch of " + std::to_string(array.size()) +
                                   " events exceeds the limit of " +
                                   std::to_string(limits.max_batch_events));
  }
  std::optional<int64_t> batch_sent_at;
  if (auto err = ReadTime(top, "sentAt", &batch_sent_at))
    return Status::InvalidArgument(err->message);
  out.events.reserve(array.size());
  int index = 0;
  for (element item : array) {
    if (!item.is_object()) {
      out.rejected.push_back({index++, "wrong_type", "batch entries must be objects"});
      continue;
    }
    object obj = item.get_object().value_unsafe();
    std::string type_name;
    if (auto err = ReadString(obj, "type", &type_name)) {
      out.rejected.push_back({index++, err->reason, err->message});
      continue;
    }
    auto type = TypeForName(type_name);
    if (!type) {
      out.rejected.push_back({index++, "unknown_type",
                              type_name.empty() ? std::string("batch entry without a type")
                                                : "unknown event type \"" + type_name + "\""});
      continue;
    }
    parse_one(obj, index++, *type, batch_sent_at);
  }
  return out;
}

Result<Event> ParseSegmentEvent(std::string_view json, int64_t received_us, const Limits& limits) {
  if (json.size() > limits.max_event_bytes) {
    return Status::InvalidArgument("event_too_large: event of " + std::to_string(json.size()) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(limits.max_event_bytes));
  }
  thread_local simdjson::dom::parser parser;
  element root;
  if (auto error = parser.parse(json.data(), json.size()).get(root)) {
    return Status::InvalidArgument(std::string("invalid_json: ") + simdjson::error_message(error));
  }
  if (!root.is_object())
    return Status::InvalidArgument("wrong_type: an event must be a JSON object");
  object obj = root.get_object().value_unsafe();
  std::string type_name;
  if (auto err = ReadString(obj, "type", &type_name))
    return Status::InvalidArgument(err->reason + ": " + err->message);
  auto type = TypeForName(type_name.empty() ? "track" : type_name);
  if (!type)
    return Status::InvalidArgument("unknown_type: unknown event type \"" + type_name + "\"");
  Event e;
  if (auto err = ParseEvent(obj, *type, received_us, std::nullopt, &e,
                            /*require_user_or_anonymous=*/false)) {
    return Status::InvalidArgument(err->reason + ": " + err->message);
  }
  if (e.identifiers.empty()) {
    return Status::InvalidArgument(
        "missing_identity: the event has no userId, anonymousId, identity trait or "
        "context.externalIds");
  }
  // An exported line carries its channel; keep it rather than reclassify.
  ReadString(obj, "channel", &e.channel);
  std::optional<int64_t> received;
  if (!ReadTime(obj, "receivedAt", &received) && received) e.received_us = *received;
  return e;
}

}  // namespace quanyu::collect
