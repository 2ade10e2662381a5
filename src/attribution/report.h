// Attribution results as JSON, a side-by-side table and CSV
// (docs/attribution.md, "Output").
//
// Stateless; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "attribution/models.h"
#include "attribution/paths.h"

namespace quanyu::attribution {

// {"paths": N, "total_conversions": C, "total_value": V,
//  "models": {"first": {"channels": {"alpha": {"conversions": .., "value": ..,
//  "share": .., ["removal_effect": ..]}, ...}, ["conversion_probability": ..]}, ...}}
// `share` is the channel's part of the conversions (0 to 1).
nlohmann::json ResultsJson(const PathSet& set, const std::vector<ModelResult>& results);

// One row per channel, one conversions column per model (then value
// columns), for a terminal.
std::string ResultsTable(const PathSet& set, const std::vector<ModelResult>& results);

// model,channel,conversions,value,share,removal_effect — one row per
// model and channel.
std::string ResultsCsv(const std::vector<ModelResult>& results);

}  // namespace quanyu::attribution
