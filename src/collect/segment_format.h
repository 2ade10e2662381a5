// Parser for Segment's HTTP Tracking API bodies (track, identify, page,
// screen, group, alias, batch) as sent by analytics.js, analytics-node and
// the mobile SDKs. Uses simdjson on the hot path.
//
// Event time: `timestamp` if given; else, when both `sentAt` and
// `originalTimestamp` are given, receivedAt − (sentAt − originalTimestamp)
// (clock-skew correction); else receivedAt.
//
// Identifiers carried (not yet normalized, see identifiers.h): userId,
// anonymousId, traits phone/email/member_id (top-level `traits` and
// `context.traits`), and context.externalIds [{id, type}] where type is
// "namespace" or "namespace:scope".
//
// Stateless; thread-safe.
#pragma once

#include <string_view>

#include "collect/ingest.h"
#include "common/result.h"

namespace quanyu::collect {

// `endpoint` is the path's last element: "track", "t", "batch", "b", ...
// Returns InvalidArgument only when the whole request is unusable (not JSON,
// batch not an array, unknown endpoint); per-event problems become
// Rejections. Returns PayloadTooLarge when the body exceeds
// limits.max_batch_bytes or the batch exceeds max_batch_events.
Result<ParsedRequest> ParseSegmentRequest(std::string_view body, std::string_view endpoint,
                                          int64_t received_us, const Limits& limits);

// Parses one event object with a "type" field, as in a batch entry or a
// line of Segment-format JSONL (the import format). Unlike the HTTP API, an
// event identified only by traits or context.externalIds (no userId or
// anonymousId) is accepted; one with no identifier at all is not. Per-event problems are
// returned as InvalidArgument with the reason code as the message prefix
// "reason: message".
Result<Event> ParseSegmentEvent(std::string_view json, int64_t received_us, const Limits& limits);

}  // namespace quanyu::collect
