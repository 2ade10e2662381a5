// Event: the internal form of one collected event, after parsing and
// normalization (ARCHITECTURE.md §3). Produced by src/collect, persisted by
// src/log (event_codec.h) and src/store (columnar segments).
//
// Plain value type; not synchronized.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace quanyu {

// The kind of record. Values are persisted (log and segments): never reorder,
// only append.
enum class EventType : uint8_t {
  kTrack = 0,
  kIdentify = 1,
  kPage = 2,
  kScreen = 3,
  kGroup = 4,
  kAlias = 5,
  // Sensors Data record types.
  kTrackSignup = 6,
  kProfileSet = 7,
  kProfileSetOnce = 8,
  kProfileIncrement = 9,
  kProfileAppend = 10,
  kProfileUnset = 11,
  kProfileDelete = 12,
  kIdBind = 13,
  kIdUnbind = 14,
  // An admin correction that undoes the links an earlier event made
  // (POST /api/v1/identity/split); properties_json names it.
  kIdentitySplit = 15,
};
inline constexpr int kEventTypeCount = 16;

// "track", "identify", ..., "track_id_unbind". Never empty.
std::string_view EventTypeName(EventType type);
// Inverse of EventTypeName; nullopt for an unknown name.
std::optional<EventType> EventTypeFromName(std::string_view name);

// One identifier an event carries, already normalized (see
// collect/identifiers.h). `scope` is empty for unscoped namespaces.
struct Identifier {
  std::string ns;     // "user_id", "anonymous_id", "phone", "wechat_openid", ...
  std::string scope;  // appid for wechat_openid / douyin_openid, corp for wecom...
  std::string value;

  bool operator==(const Identifier&) const = default;
  // "ns:value" or "ns:scope:value".
  std::string ToString() const;
};

// utm_* / context.campaign fields.
struct Campaign {
  std::string source, medium, name, term, content;
  bool operator==(const Campaign&) const = default;
  bool empty() const {
    return source.empty() && medium.empty() && name.empty() && term.empty() && content.empty();
  }
};

struct Event {
  int64_t timestamp_us = 0;  // event time, after clock-skew correction
  int64_t received_us = 0;   // when the server received it
  EventType type = EventType::kTrack;
  std::string name;          // track event name, page/screen name, or empty
  std::string message_id;    // client's messageId, or generated at ingest
  std::string source;        // source name (from the write key)
  std::string channel;       // classified once at ingest, e.g. "douyin"
  std::string user_id;       // raw userId / login_id as sent (normalized copy in identifiers)
  std::string anonymous_id;  // raw anonymousId / anonymous distinct_id
  std::vector<Identifier> identifiers;
  Campaign campaign;
  std::string referrer;  // page referrer URL, if any
  std::string url;       // page URL (click ids such as gclid are read from its query)

  // Typed commerce columns; NaN / empty when absent.
  std::optional<double> revenue;
  std::optional<double> value;
  std::optional<double> quantity;
  std::string currency;
  std::string order_id;
  std::string product_id;

  std::string properties_json;  // remaining properties as a JSON object ("" = none)
  std::string traits_json;      // identify/profile traits as a JSON object ("" = none)
  std::string context_json;     // context (consent, library, device...) ("" = none)

  // Identity (src/identity). Not part of the wire formats or of the log's row
  // encoding (common/event_codec.h): the key is assigned when the event is
  // resolved, after it is durable, and kept in the store's identity_key
  // column; one_id is filled by a store scan that asks for it.
  uint32_t identity_key = 0;  // interned id of the identifier that attributes the event; 0 = none
  uint32_t one_id = 0;        // the person the key resolves to now; 0 = not resolved

  bool operator==(const Event&) const = default;
};

}  // namespace quanyu
