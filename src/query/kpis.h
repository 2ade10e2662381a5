// Marketing KPIs (POST /api/v1/query/kpis, docs/metrics.md "KPIs"): per
// channel, campaign and/or day, the ad platforms' numbers (impressions,
// clicks, spend from the imported spend rows) joined with what the events
// say (conversions, revenue, persons reached, new customers, repurchase,
// NPS), the ratios between them, an LTV-to-date table by acquisition channel
// and cohort, and NPS.
//
// Conversions and revenue are credited to the conversion event's own
// channel / campaign / day (the channel the ingest classifier gave it), not
// to an earlier touch: multi-touch attribution is issue 6.
//
// Two scans: history before `from` (conversion events and each person's
// first channel), then the range itself. Per-person state lives in arrays
// indexed by one_id; persons per group in PersonSets (trends.h).
//
// Stateless; thread-safe (each call owns its state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "query/fields.h"
#include "query/params.h"
#include "query/query.h"

namespace quanyu::query {

enum class KpiDimension { kChannel, kCampaign, kDay };
std::string_view KpiDimensionName(KpiDimension d);

struct KpisSpec {
  TimeRange range;
  TimeZone timezone;
  std::vector<KpiDimension> group_by = {KpiDimension::kChannel};  // distinct, non-empty
  std::string conversion_event = "Order Completed";
  std::string nps_event = "NPS Survey Answered";
  Field nps_property = FieldNamed("score");
  Granularity cohort_period = Granularity::kMonth;  // LTV cohorts
};

// NPS answers: valid scores are whole numbers 0..10.
struct NpsCounts {
  int64_t promoters = 0;   // 9-10
  int64_t passives = 0;    // 7-8
  int64_t detractors = 0;  // 0-6
  int64_t invalid = 0;     // not a number, not whole, or outside 0..10 (ignored)

  int64_t responses() const { return promoters + passives + detractors; }
  // %promoters - %detractors, -100..100; nullopt without valid responses.
  std::optional<double> Score() const;
};

// The base numbers of one group (or of everything); every ratio derives
// from them (KpiRatios in kpis.cc, docs/metrics.md).
struct KpiMetrics {
  // From spend rows; nullopt when the context has no spend table.
  std::optional<int64_t> impressions, clicks;
  std::optional<double> spend;
  // From events in the range.
  int64_t conversions = 0;         // conversion events
  double revenue = 0;              // their revenue column (missing = 0)
  int64_t converting_persons = 0;  // persons with a conversion event
  int64_t persons_reached = 0;     // persons with any event
  int64_t new_customers = 0;       // persons whose first conversion ever is here
  int64_t repeat_customers = 0;    // converting persons with >= 2 conversions up to `to`
  NpsCounts nps;
};

struct KpiRow {
  // The group keys named by group_by ("" for the others).
  std::string channel, campaign, day;
  KpiMetrics metrics;
};

struct LtvRow {
  std::string acquisition_channel;  // channel of the person's first event with one
  std::string cohort;               // start date of the cohort period of the first conversion
  int64_t customers = 0;
  double revenue = 0;  // all their conversion revenue up to `to`
};

struct KpisResult {
  KpisSpec spec;
  std::vector<KpiRow> rows;  // sorted by the group keys, in group_by order
  KpiMetrics total;          // over everything (persons counted once)
  std::vector<LtvRow> ltv;   // sorted by (acquisition_channel, cohort)
};

// InvalidArgument naming the field for a malformed body, unknown names
// (with a catalog), an empty or inverted range.
Result<KpisSpec> ParseKpisSpec(const Json& body, const QueryContext& ctx);
// IOError / Corruption from the store or the spend table.
Result<KpisResult> ComputeKpis(const KpisSpec& spec, const QueryContext& ctx);
Json ToJson(const KpisResult& result);

}  // namespace quanyu::query
