#include "collect/segment_writer.h"

#include <simdjson.h>

#include "common/json_text.h"
#include "common/time_util.h"

namespace quanyu::collect {
namespace {

void Field(std::string* out, std::string_view key, std::string_view value, bool* first) {
  if (!*first) out->push_back(',');
  *first = false;
  AppendJsonString(out, key);
  out->push_back(':');
  AppendJsonString(out, value);
}

void RawField(std::string* out, std::string_view key, std::string_view json, bool* first) {
  if (!*first) out->push_back(',');
  *first = false;
  AppendJsonString(out, key);
  out->push_back(':');
  out->append(json);
}

// Appends the members of a JSON object text (without braces), skipping
// `skip` keys. Returns whether anything was written.
bool AppendMembers(std::string* out, std::string_view object_json,
                   std::initializer_list<std::string_view> skip, bool* first) {
  if (object_json.empty()) return false;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(object_json.data(), object_json.size()).get_object().get(obj)) return false;
  bool wrote = false;
  for (auto [key, value] : obj) {
    bool skipped = false;
    for (auto s : skip) skipped |= (s == key);
    if (skipped) continue;
    RawField(out, key, simdjson::minify(value), first);
    wrote = true;
  }
  return wrote;
}

}  // namespace

void AppendSegmentJson(const Event& e, std::string* out) {
  bool first = true;
  out->push_back('{');
  Field(out, "type", EventTypeName(e.type), &first);
  Field(out, "messageId", e.message_id, &first);
  Field(out, "timestamp", FormatTimestamp(e.timestamp_us), &first);
  Field(out, "receivedAt", FormatTimestamp(e.received_us), &first);
  if (!e.user_id.empty()) Field(out, "userId", e.user_id, &first);
  if (!e.anonymous_id.empty()) Field(out, "anonymousId", e.anonymous_id, &first);
  if (e.type == EventType::kTrack || e.type == EventType::kTrackSignup) {
    Field(out, "event", e.name, &first);
  } else if (!e.name.empty()) {
    Field(out, "name", e.name, &first);
  }
  for (const auto& id : e.identifiers) {
    if (id.ns == "previous_id") Field(out, "previousId", id.value, &first);
  }
  if (!e.source.empty()) Field(out, "source", e.source, &first);
  if (!e.channel.empty()) Field(out, "channel", e.channel, &first);

  if (e.type == EventType::kGroup) {
    // The parser keeps groupId in properties_json; Segment has it top-level.
    thread_local simdjson::dom::parser parser;
    std::string_view gid;
    if (!e.properties_json.empty() &&
        !parser.parse(e.properties_json).at_key("groupId").get_string().get(gid)) {
      Field(out, "groupId", gid, &first);
    }
  } else {
    // properties: typed columns first, then the rest.
    out->append(",\"properties\":{");
    bool pfirst = true;
    auto number = [&](std::string_view key, const std::optional<double>& v) {
      if (!v) return;
      if (!pfirst) out->push_back(',');
      pfirst = false;
      AppendJsonString(out, key);
      out->push_back(':');
      AppendJsonNumber(out, *v);
    };
    number("revenue", e.revenue);
    number("value", e.value);
    number("quantity", e.quantity);
    if (!e.currency.empty()) Field(out, "currency", e.currency, &pfirst);
    if (!e.order_id.empty()) Field(out, "order_id", e.order_id, &pfirst);
    if (!e.product_id.empty()) Field(out, "product_id", e.product_id, &pfirst);
    AppendMembers(out, e.properties_json, {}, &pfirst);
    out->push_back('}');
  }
  if (!e.traits_json.empty()) RawField(out, "traits", e.traits_json, &first);

  // context: our normalized view of identifiers, campaign and page, plus the
  // rest of what the client sent.
  out->append(",\"context\":{");
  bool cfirst = true;
  bool any_external = false;
  for (const auto& id : e.identifiers) {
    if (id.ns == "user_id" || id.ns == "anonymous_id" || id.ns == "previous_id") continue;
    out->append(any_external ? "," : (cfirst ? "\"externalIds\":[" : ",\"externalIds\":["));
    cfirst = false;
    any_external = true;
    out->append("{\"id\":");
    AppendJsonString(out, id.value);
    out->append(",\"type\":");
    AppendJsonString(out, id.scope.empty() ? id.ns : id.ns + ":" + id.scope);
    out->push_back('}');
  }
  if (any_external) out->push_back(']');
  if (!e.campaign.empty()) {
    if (!cfirst) out->push_back(',');
    cfirst = false;
    out->append("\"campaign\":{");
    bool f = true;
    if (!e.campaign.source.empty()) Field(out, "source", e.campaign.source, &f);
    if (!e.campaign.medium.empty()) Field(out, "medium", e.campaign.medium, &f);
    if (!e.campaign.name.empty()) Field(out, "name", e.campaign.name, &f);
    if (!e.campaign.term.empty()) Field(out, "term", e.campaign.term, &f);
    if (!e.campaign.content.empty()) Field(out, "content", e.campaign.content, &f);
    out->push_back('}');
  }
  if (!e.url.empty() || !e.referrer.empty()) {
    if (!cfirst) out->push_back(',');
    cfirst = false;
    out->append("\"page\":{");
    bool f = true;
    if (!e.url.empty()) Field(out, "url", e.url, &f);
    if (!e.referrer.empty()) Field(out, "referrer", e.referrer, &f);
    out->push_back('}');
  }
  AppendMembers(out, e.context_json, {"externalIds", "campaign", "page"}, &cfirst);
  out->append("}}");
}

}  // namespace quanyu::collect
