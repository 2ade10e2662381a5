// Types shared by the wire-format parsers of src/collect: what a parsed
// request yields and how a rejected event is reported.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/event.h"

namespace quanyu::collect {

// Size limits, Segment's by default (configurable in [limits]).
struct Limits {
  size_t max_event_bytes = 32 * 1024;
  size_t max_batch_bytes = 500 * 1024;
  size_t max_batch_events = 2500;
};

// Why one event of a request was not accepted. `reason` is a stable
// snake_case code used as the /metrics label (e.g. "invalid_json",
// "missing_identity", "wrong_type", "event_too_large", "unknown_type",
// "invalid_timestamp", "too_many_events", "junk_identity").
struct Rejection {
  int index = -1;  // position in the request's batch; -1 = the whole request
  std::string reason;
  std::string message;
};

// The output of a parser: events in request order, with identifiers as sent
// (not yet normalized), and the rejected ones.
struct ParsedRequest {
  std::string write_key;  // from the body ("writeKey"), if present
  std::vector<Event> events;
  std::vector<Rejection> rejected;
};

}  // namespace quanyu::collect
