// The pieces every query request shares (docs/metrics.md, "Requests"): the
// time range, durations, the time zone and calendar buckets. Requests are
// JSON (nlohmann); every parse error is InvalidArgument with a message that
// names the field, which the API returns as 400.
//
// Stateless; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace quanyu::query {

using Json = nlohmann::json;

// [from_us, to_us) in event time.
struct TimeRange {
  int64_t from_us = 0;
  int64_t to_us = 0;
};

// A fixed UTC offset. Named zones are accepted when they have no daylight
// saving time (Asia/Shanghai and the others in docs/metrics.md).
struct TimeZone {
  int64_t offset_us = 0;
  std::string name = "UTC";
};

enum class Granularity { kDay, kWeek, kMonth };

// body["from"] and body["to"]: RFC 3339 timestamps or YYYY-MM-DD dates
// (a date means midnight in `tz`). InvalidArgument if either is missing or
// malformed, or if from >= to ("empty or inverted time range").
Result<TimeRange> ParseRange(const Json& body, const TimeZone& tz);
// "7d", "12h", "30m", "45s", "2w" or a number of seconds, to microseconds;
// must be > 0. `field` names it in errors.
Result<int64_t> ParseDuration(const Json& value, std::string_view field);
// body["timezone"] if present ("UTC", "+08:00", "-05:30", "Asia/Shanghai"),
// else `fallback`.
Result<TimeZone> ParseTimeZone(const Json& body, const TimeZone& fallback);
Result<TimeZone> TimeZoneNamed(std::string_view name);
// body[field] as "day", "week" or "month"; `fallback` if absent.
Result<Granularity> ParseGranularity(const Json& body, std::string_view field,
                                     Granularity fallback);
// body[field] as an integer in [min, max]; `fallback` if absent.
Result<int64_t> ParseInt(const Json& body, std::string_view field, int64_t fallback, int64_t min,
                         int64_t max);
// body[field] as a string from `allowed` (its first entry if absent).
Result<std::string> ParseChoice(const Json& body, std::string_view field,
                                std::initializer_list<std::string_view> allowed);
// body[field] as a non-empty string; `required` decides whether absence is
// an error (else "").
Result<std::string> ParseString(const Json& body, std::string_view field, bool required);

// The calendar bucket of `ts_us` in `tz`: days since 1970-01-01, weeks
// since the Monday 1969-12-29 (ISO weeks start on Monday), or months since
// 1970-01 — all local to `tz`.
int64_t BucketOf(int64_t ts_us, Granularity g, const TimeZone& tz);
// The local date ("2026-01-05") a bucket starts on.
std::string BucketLabel(int64_t bucket, Granularity g);
// The UTC instant a bucket starts at, in `tz`.
int64_t BucketStartUs(int64_t bucket, Granularity g, const TimeZone& tz);
std::string_view GranularityName(Granularity g);

}  // namespace quanyu::query
