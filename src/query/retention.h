// Retention (POST /api/v1/query/retention; docs/metrics.md, "Retention"):
// persons grouped into cohorts by the calendar period (day, week or month
// in the request's time zone) of their first start event in the range, and
// for each following period the share of the cohort that came back with a
// return event — in that very period (classic) or in that period or any
// later one (unbounded, "on or after"); optionally broken down by a field of
// the cohort-defining start event.
//
// ComputeRetention scans the range once (twice for ranges of more than 512
// periods) and keeps one small record per person — first start, last
// return, a bitmap of return periods — instead of per-person event lists;
// persons are then counted on ctx.options.threads threads.
//
// Thread-safety: the functions are reentrant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "query/filter.h"
#include "query/query.h"

namespace quanyu::query {

// Matches every event name in RetentionEvent::event.
inline constexpr std::string_view kAnyEvent = "$any";

struct RetentionEvent {
  std::string event;  // Event::name, or kAnyEvent
  std::vector<Condition> where;
};

enum class RetentionMode { kClassic, kUnbounded };

struct RetentionSpec {
  TimeRange range;
  TimeZone timezone;
  RetentionEvent start_event, return_event;
  Granularity period = Granularity::kWeek;
  int periods = 8;  // periods 0 .. periods-1; 1..366
  RetentionMode mode = RetentionMode::kClassic;
  bool has_breakdown = false;
  Field breakdown_field;  // of the cohort-defining start event
};

// One cohort, or the total over cohorts.
struct RetentionRow {
  std::string cohort;  // the cohort period's first local day, "2026-01-05" ("" for totals)
  int64_t persons = 0;
  // Per period n: persons retained, nullopt when the period has not started
  // before the range's end (for a total: in none of the cohorts).
  std::vector<std::optional<int64_t>> retained;
  // Per period n: the persons the rate is over (the cohort's persons, or
  // for a total those of the cohorts that observe period n).
  std::vector<int64_t> observed_persons;
};

struct RetentionTable {
  std::vector<RetentionRow> cohorts;  // every period overlapping the range, in time order
  RetentionRow total;
};

struct RetentionBreakdownRow {
  std::string value;  // "(none)" for a missing or empty value
  RetentionTable table;
};

struct RetentionResult {
  Granularity period = Granularity::kWeek;
  RetentionTable table;
  bool has_breakdown = false;
  // By total persons descending, then value (bytewise); at most
  // kMaxBreakdownValues (funnel.h), then kOtherValues for the rest if any.
  std::vector<RetentionBreakdownRow> breakdown;
};

// Parses a request body (docs/openapi.yaml RetentionRequest) and checks the
// names against ctx.catalog ("$any" is not checked). InvalidArgument naming
// the field on error.
Result<RetentionSpec> ParseRetentionSpec(const Json& body, const QueryContext& ctx);
// IOError/Corruption from the store; InvalidArgument for periods outside
// 1..366 or a table of more than 50,000 cohorts x periods.
Result<RetentionResult> ComputeRetention(const RetentionSpec& spec, const QueryContext& ctx);
Json ToJson(const RetentionResult& result);

}  // namespace quanyu::query
