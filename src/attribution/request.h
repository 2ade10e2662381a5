// An attribution request on the store (docs/attribution.md, "Requests"):
// POST /api/v1/attribution and `quanyu attribution --data DIR` both parse a
// JSON body into an AttributionRequest and call RunAttribution, which
// builds the paths, runs every model asked for and joins the imported spend
// (CPA and ROAS per channel or campaign, by model).
//
//   {"from": "2026-01-01", "to": "2026-04-01", "timezone": "Asia/Shanghai",
//    "models": ["last", "markov1", "shapley"] | "all",
//    "granularity": "channel" | "source_medium" | "campaign",
//    "lookback": "30d", "touch_gap": "30m", "touch_events": [...],
//    "campaign_touches_only": false,
//    "conversions": ["Order Completed"], "value_property": "revenue",
//    "first_conversion_only": false, "nulls": true, "collapse": false,
//    "position": {"first": 0.4, "last": 0.4}, "half_life": "7d",
//    "direct_channels": ["direct"], "markov_nulls": true}
//
// Only "from" and "to" are required. Unknown fields are refused, so a typo
// does not silently fall back to a default.
//
// Stateless; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "attribution/models.h"
#include "attribution/report.h"
#include "attribution/store_paths.h"
#include "common/result.h"
#include "query/query.h"

namespace quanyu::attribution {

struct AttributionRequest {
  PathOptions paths;
  std::vector<std::string> models;  // every model of ModelNames() for "all"
  ModelOptions options;
  query::TimeZone timezone;         // the local days spend rows are summed over
};

// InvalidArgument naming the field for a missing or malformed one, an
// unknown field, model or granularity, an empty or inverted range.
Result<AttributionRequest> ParseAttributionRequest(const query::Json& body,
                                                   const query::TimeZone& default_timezone);

// Spend per path label over the request's range: by channel for "channel"
// granularity, by campaign for "campaign", none for "source_medium" (spend
// rows carry no source / medium). Empty when `ctx.spend` is null.
Result<std::map<std::string, double>> SpendByLabel(const AttributionRequest& request,
                                                   const query::QueryContext& ctx);

struct AttributionAnswer {
  PathSet paths;                     // aggregated
  std::vector<ModelResult> results;  // in the request's model order
  std::optional<SpendMap> spend;     // when the context has a spend table
  // Models asked for by "all" that cannot run on these paths (Shapley over
  // more than 20 channels, or without nulls): name -> why.
  std::map<std::string, std::string> skipped;
};

// Builds the paths, runs the models and joins the spend. InvalidArgument
// when no conversion in range has a touch; errors as BuildPaths and
// RunModel otherwise.
Result<AttributionAnswer> RunAttribution(const AttributionRequest& request,
                                         const query::QueryContext& ctx);

// ResultsJson with the spend joined, plus "from", "to", "granularity",
// "total_nulls", "conversions_without_touch" and "value_without_touch"
// (conversions in range with no touch in their lookback, which no model
// can credit) and "skipped" when a model was.
query::Json AnswerJson(const AttributionRequest& request, const AttributionAnswer& answer);

}  // namespace quanyu::attribution
