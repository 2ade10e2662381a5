#include "common/event_codec.h"

#include "common/coding.h"

namespace quanyu {
namespace {

constexpr uint8_t kEventFormatVersion = 1;

// Presence bits for the optional numeric columns.
constexpr uint8_t kHasRevenue = 1;
constexpr uint8_t kHasValue = 2;
constexpr uint8_t kHasQuantity = 4;

void PutDouble(std::string* dst, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  PutFixed64(dst, bits);
}

bool GetDouble(Decoder* d, double* out) {
  uint64_t bits;
  if (!d->GetFixed64(&bits)) return false;
  std::memcpy(out, &bits, 8);
  return true;
}

}  // namespace

void EncodeEvent(const Event& e, std::string* dst) {
  std::string body;
  body.reserve(128 + e.properties_json.size() + e.traits_json.size() + e.context_json.size());
  body.push_back(static_cast<char>(kEventFormatVersion));
  PutVarsint64(&body, e.timestamp_us);
  PutVarsint64(&body, e.received_us - e.timestamp_us);
  body.push_back(static_cast<char>(e.type));
  PutLengthPrefixed(&body, e.name);
  PutLengthPrefixed(&body, e.message_id);
  PutLengthPrefixed(&body, e.source);
  PutLengthPrefixed(&body, e.channel);
  PutLengthPrefixed(&body, e.user_id);
  PutLengthPrefixed(&body, e.anonymous_id);
  PutVarint64(&body, e.identifiers.size());
  for (const auto& id : e.identifiers) {
    PutLengthPrefixed(&body, id.ns);
    PutLengthPrefixed(&body, id.scope);
    PutLengthPrefixed(&body, id.value);
  }
  PutLengthPrefixed(&body, e.campaign.source);
  PutLengthPrefixed(&body, e.campaign.medium);
  PutLengthPrefixed(&body, e.campaign.name);
  PutLengthPrefixed(&body, e.campaign.term);
  PutLengthPrefixed(&body, e.campaign.content);
  PutLengthPrefixed(&body, e.referrer);
  PutLengthPrefixed(&body, e.url);
  uint8_t present =
      (e.revenue ? kHasRevenue : 0) | (e.value ? kHasValue : 0) | (e.quantity ? kHasQuantity : 0);
  body.push_back(static_cast<char>(present));
  if (e.revenue) PutDouble(&body, *e.revenue);
  if (e.value) PutDouble(&body, *e.value);
  if (e.quantity) PutDouble(&body, *e.quantity);
  PutLengthPrefixed(&body, e.currency);
  PutLengthPrefixed(&body, e.order_id);
  PutLengthPrefixed(&body, e.product_id);
  PutLengthPrefixed(&body, e.properties_json);
  PutLengthPrefixed(&body, e.traits_json);
  PutLengthPrefixed(&body, e.context_json);
  PutLengthPrefixed(dst, body);
}

Status DecodeEvent(std::string_view* in, Event* e) {
  Decoder outer(*in);
  std::string_view body;
  if (!outer.GetLengthPrefixed(&body)) return Status::Corruption("truncated event");
  Decoder d(body);
  uint8_t version, type, present;
  int64_t received_delta;
  uint64_t nids;
  bool ok = d.GetByte(&version) && version == kEventFormatVersion &&
            d.GetVarsint64(&e->timestamp_us) && d.GetVarsint64(&received_delta) &&
            d.GetByte(&type) && type < kEventTypeCount && d.GetString(&e->name) &&
            d.GetString(&e->message_id) && d.GetString(&e->source) && d.GetString(&e->channel) &&
            d.GetString(&e->user_id) && d.GetString(&e->anonymous_id) && d.GetVarint64(&nids) &&
            nids <= d.remaining();
  if (!ok) return Status::Corruption("malformed event header");
  e->received_us = e->timestamp_us + received_delta;
  e->type = static_cast<EventType>(type);
  e->identifiers.resize(nids);
  for (auto& id : e->identifiers) {
    if (!d.GetString(&id.ns) || !d.GetString(&id.scope) || !d.GetString(&id.value)) {
      return Status::Corruption("malformed identifier");
    }
  }
  ok = d.GetString(&e->campaign.source) && d.GetString(&e->campaign.medium) &&
       d.GetString(&e->campaign.name) && d.GetString(&e->campaign.term) &&
       d.GetString(&e->campaign.content) && d.GetString(&e->referrer) && d.GetString(&e->url) &&
       d.GetByte(&present);
  if (!ok) return Status::Corruption("malformed campaign");
  double v;
  e->revenue.reset();
  e->value.reset();
  e->quantity.reset();
  if (present & kHasRevenue) {
    if (!GetDouble(&d, &v)) return Status::Corruption("malformed revenue");
    e->revenue = v;
  }
  if (present & kHasValue) {
    if (!GetDouble(&d, &v)) return Status::Corruption("malformed value");
    e->value = v;
  }
  if (present & kHasQuantity) {
    if (!GetDouble(&d, &v)) return Status::Corruption("malformed quantity");
    e->quantity = v;
  }
  ok = d.GetString(&e->currency) && d.GetString(&e->order_id) && d.GetString(&e->product_id) &&
       d.GetString(&e->properties_json) && d.GetString(&e->traits_json) &&
       d.GetString(&e->context_json);
  if (!ok) return Status::Corruption("malformed event body");
  in->remove_prefix(in->size() - outer.remaining());
  return Status::OK();
}

void EncodeEventBatch(const std::vector<Event>& events, std::string* dst) {
  PutVarint64(dst, events.size());
  for (const auto& e : events) EncodeEvent(e, dst);
}

Result<std::vector<Event>> DecodeEventBatch(std::string_view in) {
  Decoder d(in);
  uint64_t n;
  if (!d.GetVarint64(&n) || n > in.size()) return Status::Corruption("malformed batch count");
  in.remove_prefix(in.size() - d.remaining());
  std::vector<Event> events(n);
  for (auto& e : events) RETURN_IF_ERROR(DecodeEvent(&in, &e));
  if (!in.empty()) return Status::Corruption("trailing bytes after event batch");
  return events;
}

}  // namespace quanyu
