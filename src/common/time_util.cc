#include "common/time_util.h"

#include <cctype>
#include <cstdio>

namespace quanyu {
namespace {

// Days from civil date (Howard Hinnant's algorithm).
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
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

Result<int64_t> ParseTimestamp(std::string_view s) {
  int y, mo, d, h = 0, mi = 0, sec = 0;
  auto bad = [&](const char* why) {
    return Status::InvalidArgument(std::string("invalid timestamp \"") +
                                   std::string(s.substr(0, 64)) + "\": " + why);
  };
  if (!Digits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d)) {
    return bad("expected YYYY-MM-DD");
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return bad("month or day out of range");
  size_t p = 10;
  int64_t frac_us = 0;
  int64_t offset_s = 0;
  if (p < s.size()) {
    if (s[p] != 'T' && s[p] != 't' && s[p] != ' ') return bad("expected 'T' after the date");
    ++p;
    if (!Digits(s, p, 2, &h) || p + 2 >= s.size() || s[p + 2] != ':' || !Digits(s, p + 3, 2, &mi)) {
      return bad("expected hh:mm");
    }
    p += 5;
    if (p < s.size() && s[p] == ':') {
      if (!Digits(s, p + 1, 2, &sec)) return bad("expected seconds");
      p += 3;
    }
    if (h > 23 || mi > 59 || sec > 60) return bad("time out of range");
    if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
      ++p;
      int64_t scale = 100000;
      size_t start = p;
      while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
        if (scale > 0) frac_us += (s[p] - '0') * scale;
        scale /= 10;
        ++p;
      }
      if (p == start) return bad("empty fraction");
    }
    if (p < s.size()) {
      if (s[p] == 'Z' || s[p] == 'z') {
        ++p;
      } else if (s[p] == '+' || s[p] == '-') {
        int oh, om = 0;
        int sign = s[p] == '-' ? -1 : 1;
        ++p;
        if (!Digits(s, p, 2, &oh)) return bad("bad UTC offset");
        p += 2;
        if (p < s.size() && s[p] == ':') ++p;
        if (p < s.size()) {
          if (!Digits(s, p, 2, &om)) return bad("bad UTC offset");
          p += 2;
        }
        offset_s = sign * (oh * 3600 + om * 60);
      }
    }
    if (p != s.size()) return bad("unexpected trailing characters");
  }
  int64_t days = DaysFromCivil(y, mo, d);
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  return secs * kMicrosPerSecond + frac_us;
}

std::string FormatTimestamp(int64_t micros) {
  int64_t day = DayOf(micros);
  int64_t rem = micros - day * kMicrosPerDay;
  int64_t y;
  unsigned m, d;
  CivilFromDays(day, &y, &m, &d);
  int64_t secs = rem / kMicrosPerSecond;
  int64_t ms = (rem % kMicrosPerSecond) / 1000;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
                static_cast<long long>(ms));
  return buf;
}

std::string FormatDay(int64_t day) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(day, &y, &m, &d);
  // Room for any int64 year and out-of-range month/day values the compiler
  // cannot rule out (-Wformat-truncation at -O3).
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

}  // namespace quanyu
