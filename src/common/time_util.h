// Conversions between ISO-8601 / RFC 3339 timestamps and microseconds since
// the Unix epoch. Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace quanyu {

// Parses "2026-11-22T08:00:00Z", "2026-11-22T08:00:00.123+08:00",
// "2026-11-22 08:00:00" (taken as UTC), "2026-11-22" (midnight UTC).
// Returns InvalidArgument naming the problem otherwise.
Result<int64_t> ParseTimestamp(std::string_view s);

// Formats as "2026-11-22T08:00:00.123Z" (milliseconds, UTC).
std::string FormatTimestamp(int64_t micros);

// Days since the Unix epoch of a UTC timestamp (floor).
inline int64_t DayOf(int64_t micros) {
  constexpr int64_t kDay = 86'400'000'000;
  return micros >= 0 ? micros / kDay : (micros - kDay + 1) / kDay;
}
// "2026-11-22" for a day number.
std::string FormatDay(int64_t day);

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kMicrosPerDay = 86'400'000'000;

}  // namespace quanyu
