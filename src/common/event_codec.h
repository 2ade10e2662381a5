// Binary encoding of an Event, used as the payload of log records and as the
// row form the store's writer consumes. Format specified in docs/log_format.md.
// Stateless; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/event.h"
#include "common/result.h"

namespace quanyu {

// Appends the encoding of `event` to `dst`.
void EncodeEvent(const Event& event, std::string* dst);

// Decodes one event from the front of `in`, advancing it past the event.
// Returns Corruption if the bytes are truncated or malformed.
Status DecodeEvent(std::string_view* in, Event* event);

// A batch: varint count followed by that many encoded events.
void EncodeEventBatch(const std::vector<Event>& events, std::string* dst);
Result<std::vector<Event>> DecodeEventBatch(std::string_view in);

}  // namespace quanyu
