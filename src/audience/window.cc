#include "audience/window.h"

#include <climits>
#include <string>

namespace quanyu::audience {

Result<query::TimeRange> ResolveWindow(const Window& w, int64_t now_us,
                                       const query::TimeZone& tz) {
  switch (w.kind) {
    case Window::kAllTime:
      return query::TimeRange{INT64_MIN, INT64_MAX};
    case Window::kLast:
      return query::TimeRange{now_us - w.seconds * 1000000, now_us + 1};
    case Window::kBetween: {
      // ParseRange reads a date as midnight in `tz`; the end date is inclusive,
      // so the range ends at the next day's midnight.
      auto start = query::ParseRange(query::Json{{"from", w.from_date}, {"to", "9999-12-31"}}, tz);
      if (!start.ok()) return start.status();
      auto end = query::ParseRange(query::Json{{"from", w.to_date}, {"to", "9999-12-31"}}, tz);
      if (!end.ok()) return end.status();
      const int64_t from = start->from_us, to = end->from_us + 86400LL * 1000000;
      if (to <= from) {
        return Status::InvalidArgument("between(\"" + w.from_date + "\", \"" + w.to_date +
                                       "\"): the end date is before the start date");
      }
      return query::TimeRange{from, to};
    }
  }
  return Status::InvalidArgument("unknown window kind");
}

}  // namespace quanyu::audience
