// Writes events back out in Segment's format, one JSON object per line
// (JSONL), for `quanyu export events` and the simulator's JSONL output. The
// output re-imports to the same events (messageId, times, identifiers,
// campaign, commerce columns and properties are all carried).
//
// Extra top-level fields beyond Segment's spec: "source" and "channel".
// Identifiers other than user_id/anonymous_id go to context.externalIds as
// {"id", "type": "ns" or "ns:scope"}.
//
// Stateless; thread-safe.
#pragma once

#include <string>

#include "common/event.h"

namespace quanyu::collect {

// Appends one JSON object (no trailing newline) to `out`.
void AppendSegmentJson(const Event& event, std::string* out);

}  // namespace quanyu::collect
