#include "query/params.h"

#include <charconv>
#include <cmath>

#include "common/time_util.h"

namespace quanyu::query {
namespace {

Status Bad(std::string message) { return Status::InvalidArgument(std::move(message)); }

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : (a - b + 1) / b; }

// Zones without daylight saving time, by IANA name.
struct NamedZone {
  std::string_view name;
  int64_t minutes;
};
constexpr NamedZone kZones[] = {
    {"UTC", 0},
    {"Etc/UTC", 0},
    {"GMT", 0},
    {"Asia/Shanghai", 480},
    {"Asia/Chongqing", 480},
    {"Asia/Urumqi", 360},
    {"Asia/Hong_Kong", 480},
    {"Asia/Macau", 480},
    {"Asia/Taipei", 480},
    {"Asia/Singapore", 480},
    {"Asia/Kuala_Lumpur", 480},
    {"Asia/Manila", 480},
    {"Asia/Tokyo", 540},
    {"Asia/Seoul", 540},
    {"Asia/Bangkok", 420},
    {"Asia/Jakarta", 420},
    {"Asia/Ho_Chi_Minh", 420},
    {"Asia/Kolkata", 330},
    {"Asia/Dubai", 240},
};

}  // namespace

Result<TimeZone> TimeZoneNamed(std::string_view name) {
  for (const auto& z : kZones) {
    if (z.name == name) return TimeZone{z.minutes * 60 * kMicrosPerSecond, std::string(name)};
  }
  // ±HH:MM or ±HHMM
  if (name.size() >= 5 && (name[0] == '+' || name[0] == '-')) {
    std::string digits;
    for (char c : name.substr(1)) {
      if (c != ':') digits += c;
    }
    int hh = 0, mm = 0;
    if (digits.size() == 4 &&
        std::from_chars(digits.data(), digits.data() + 2, hh).ec == std::errc() &&
        std::from_chars(digits.data() + 2, digits.data() + 4, mm).ec == std::errc() && hh <= 14 &&
        mm < 60) {
      const int64_t minutes = (name[0] == '-' ? -1 : 1) * (hh * 60 + mm);
      return TimeZone{minutes * 60 * kMicrosPerSecond, std::string(name)};
    }
  }
  return Bad("timezone \"" + std::string(name) +
             "\" is not supported: use UTC, an offset like \"+08:00\", or a zone without "
             "daylight saving time such as \"Asia/Shanghai\" (docs/metrics.md)");
}

Result<TimeZone> ParseTimeZone(const Json& body, const TimeZone& fallback) {
  if (!body.contains("timezone")) return fallback;
  const Json& v = body["timezone"];
  if (!v.is_string()) return Bad("timezone must be a string such as \"Asia/Shanghai\"");
  return TimeZoneNamed(v.get<std::string>());
}

Result<TimeRange> ParseRange(const Json& body, const TimeZone& tz) {
  TimeRange r;
  for (const char* field : {"from", "to"}) {
    if (!body.contains(field)) return Bad(std::string(field) + " is required (an RFC 3339 time)");
    const Json& v = body[field];
    if (!v.is_string()) {
      return Bad(std::string(field) + " must be an RFC 3339 time string such as \"2026-01-01T00:00:00Z\"");
    }
    const std::string s = v.get<std::string>();
    auto ts = ParseTimestamp(s);
    if (!ts.ok()) return Bad(std::string(field) + ": " + ts.status().message());
    int64_t value = *ts;
    if (s.size() == 10) value -= tz.offset_us;  // a bare date: midnight local
    (std::string_view(field) == "from" ? r.from_us : r.to_us) = value;
  }
  if (r.from_us >= r.to_us) {
    return Bad("empty or inverted time range: from (" + FormatTimestamp(r.from_us) +
               ") must be before to (" + FormatTimestamp(r.to_us) + ")");
  }
  return r;
}

Result<int64_t> ParseDuration(const Json& value, std::string_view field) {
  const std::string name(field);
  double seconds = 0;
  if (value.is_number()) {
    seconds = value.get<double>();
  } else if (value.is_string()) {
    const std::string s = value.get<std::string>();
    double n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || p + 1 != s.data() + s.size()) {
      return Bad(name + " \"" + s + "\" is not a duration such as \"7d\", \"12h\", \"30m\" or \"45s\"");
    }
    switch (*p) {
      case 's': seconds = n; break;
      case 'm': seconds = n * 60; break;
      case 'h': seconds = n * 3600; break;
      case 'd': seconds = n * 86400; break;
      case 'w': seconds = n * 7 * 86400; break;
      default:
        return Bad(name + " \"" + s + "\": unit must be s, m, h, d or w");
    }
  } else {
    return Bad(name + " must be a duration such as \"7d\" or a number of seconds");
  }
  if (!std::isfinite(seconds) || seconds <= 0 || seconds > 3650.0 * 86400) {
    return Bad(name + " must be positive and at most 3650 days");
  }
  return static_cast<int64_t>(std::llround(seconds * 1e6));
}

Result<Granularity> ParseGranularity(const Json& body, std::string_view field,
                                     Granularity fallback) {
  if (!body.contains(field)) return fallback;
  const Json& v = body[std::string(field)];
  const std::string s = v.is_string() ? v.get<std::string>() : "";
  if (s == "day") return Granularity::kDay;
  if (s == "week") return Granularity::kWeek;
  if (s == "month") return Granularity::kMonth;
  return Bad(std::string(field) + " must be \"day\", \"week\" or \"month\"");
}

Result<int64_t> ParseInt(const Json& body, std::string_view field, int64_t fallback, int64_t min,
                         int64_t max) {
  if (!body.contains(field)) return fallback;
  const Json& v = body[std::string(field)];
  if (!v.is_number_integer()) {
    return Bad(std::string(field) + " must be an integer");
  }
  const int64_t n = v.get<int64_t>();
  if (n < min || n > max) {
    return Bad(std::string(field) + " must be between " + std::to_string(min) + " and " +
               std::to_string(max) + " (got " + std::to_string(n) + ")");
  }
  return n;
}

Result<std::string> ParseChoice(const Json& body, std::string_view field,
                                std::initializer_list<std::string_view> allowed) {
  if (!body.contains(field)) return std::string(*allowed.begin());
  const Json& v = body[std::string(field)];
  if (v.is_string()) {
    for (auto a : allowed) {
      if (v.get<std::string>() == a) return std::string(a);
    }
  }
  std::string list;
  for (auto a : allowed) list += (list.empty() ? "\"" : ", \"") + std::string(a) + "\"";
  return Bad(std::string(field) + " must be one of " + list);
}

Result<std::string> ParseString(const Json& body, std::string_view field, bool required) {
  if (!body.contains(field)) {
    if (required) return Bad(std::string(field) + " is required");
    return std::string();
  }
  const Json& v = body[std::string(field)];
  if (!v.is_string() || v.get<std::string>().empty()) {
    return Bad(std::string(field) + " must be a non-empty string");
  }
  return v.get<std::string>();
}

int64_t BucketOf(int64_t ts_us, Granularity g, const TimeZone& tz) {
  const int64_t day = DayOf(ts_us + tz.offset_us);
  switch (g) {
    case Granularity::kDay:
      return day;
    case Granularity::kWeek:
      return FloorDiv(day + 3, 7);  // 1970-01-01 was a Thursday
    case Granularity::kMonth: {
      int64_t y;
      unsigned m, d;
      CivilFromDays(day, &y, &m, &d);
      return (y - 1970) * 12 + (m - 1);
    }
  }
  return day;
}

namespace {
int64_t BucketFirstDay(int64_t bucket, Granularity g) {
  switch (g) {
    case Granularity::kDay:
      return bucket;
    case Granularity::kWeek:
      return bucket * 7 - 3;
    case Granularity::kMonth: {
      const int64_t y = 1970 + FloorDiv(bucket, 12);
      const unsigned m = static_cast<unsigned>(bucket - FloorDiv(bucket, 12) * 12) + 1;
      return DaysFromCivil(y, m, 1);
    }
  }
  return bucket;
}
}  // namespace

std::string BucketLabel(int64_t bucket, Granularity g) {
  return FormatDay(BucketFirstDay(bucket, g));
}

int64_t BucketStartUs(int64_t bucket, Granularity g, const TimeZone& tz) {
  return BucketFirstDay(bucket, g) * kMicrosPerDay - tz.offset_us;
}

std::string_view GranularityName(Granularity g) {
  switch (g) {
    case Granularity::kDay: return "day";
    case Granularity::kWeek: return "week";
    case Granularity::kMonth: return "month";
  }
  return "day";
}

}  // namespace quanyu::query
