// Mapping of one Sensors Data record (a parsed JSON object) onto an Event,
// as specified in collect/sensors_format.h; the request layer there handles
// decoding, limits and batching. Stateless; thread-safe.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/event.h"

namespace quanyu::collect::internal {

// Why a record was rejected: `reason` is the stable /metrics code
// ("wrong_type", "unknown_type", "missing_event", "missing_identity",
// "invalid_timestamp"), `message` the explanation for the client.
struct RecordError {
  std::string reason;
  std::string message;
};

// Fills `event` from `record`. Returns the first problem found, in which case
// `event` is partially filled and must be discarded.
std::optional<RecordError> ParseSensorsRecord(const simdjson::dom::object& record,
                                              int64_t received_us, Event* event);

}  // namespace quanyu::collect::internal
