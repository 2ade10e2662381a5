// Resolving a condition's time window (definition.h, Window) to the event
// time range a scan reads, as of an evaluation instant.
//
// Stateless; thread-safe.
#pragma once

#include <cstdint>

#include "audience/definition.h"
#include "common/result.h"
#include "query/params.h"

namespace quanyu::audience {

// kAllTime: [INT64_MIN, INT64_MAX). kLast: [now - seconds, now] (inclusive
// of `now`, so to_us = now_us + 1). kBetween: from the start of from_date to
// the end of to_date (both inclusive) in `tz`. InvalidArgument for a
// malformed date or to_date before from_date.
Result<query::TimeRange> ResolveWindow(const Window& w, int64_t now_us, const query::TimeZone& tz);

}  // namespace quanyu::audience
