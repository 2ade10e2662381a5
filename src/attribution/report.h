// Attribution results as JSON, a side-by-side table and CSV
// (docs/attribution.md, "Output").
//
// Stateless; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "attribution/models.h"
#include "attribution/paths.h"

namespace quanyu::attribution {

// {"paths": N, "total_conversions": C, "total_value": V,
//  "models": {"first": {"channels": {"alpha": {"conversions": .., "value": ..,
//  "share": .., ["removal_effect": ..]}, ...}, ["conversion_probability": ..]}, ...}}
// `share` is the channel's part of the conversions (0 to 1).
//
// Spend per channel label, when given (imported spend, request.h), adds
// "spend" at the top level ({label: amount}) and, for every channel with
// spend, "spend", "cpa" (spend / conversions, null without conversions) and
// "roas" (value / spend, null when spend is 0) to each model's entry.
using SpendMap = std::map<std::string, double>;
nlohmann::json ResultsJson(const PathSet& set, const std::vector<ModelResult>& results,
                           const SpendMap* spend = nullptr);

// One row per channel, one conversions column per model (then value
// columns, then CPA and ROAS columns when spend is given), for a terminal.
std::string ResultsTable(const PathSet& set, const std::vector<ModelResult>& results,
                         const SpendMap* spend = nullptr);

// model,channel,conversions,value,share,removal_effect,spend,cpa,roas — one
// row per model and channel; the last three are empty without spend for
// the channel.
std::string ResultsCsv(const std::vector<ModelResult>& results, const SpendMap* spend = nullptr);

}  // namespace quanyu::attribution
