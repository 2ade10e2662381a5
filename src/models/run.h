// One model run on the store (docs/models.md, "Running the models"): what
// POST /api/v1/models/{clv,churn,propensity,recommend} and `quanyu model
// run` do — read the inputs from the store, fit, validate, score every
// person and answer a JSON summary plus the predicted traits to store.
//
// Stateless; thread-safe (a QueryContext is read-only).
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "query/query.h"

namespace quanyu::models {

using Json = nlohmann::json;

// "clv", "churn", "propensity", "recommend".
const std::vector<std::string>& ModelKinds();

// A predicted trait: one value per person, sorted by one_id.
struct PredictedTrait {
  std::string name;  // clv_12m, p_alive, churn_risk, propensity_purchase_30d, next_products
  std::vector<std::pair<uint32_t, Json>> values;
};

struct ModelRun {
  Json answer;                         // docs/openapi.yaml, ModelRun
  std::vector<PredictedTrait> traits;  // empty when the request said "store": false
};

// {"model", "customers", "log_likelihood", "parameters": {NAME: {"value",
// "std_error"}}, "evaluations"} (std_error null when not defined).
struct FitResult;
Json FitToJson(const FitResult& fit);

// Stage messages for long runs ("reading orders", "fitting bgnbd"...).
using ModelProgress = std::function<void(std::string_view stage)>;

// A FitProgress that reports "MODEL: evaluation N, best log-likelihood L"
// through `progress` at most every `every_ms` (nothing when `progress` is
// empty): the progress of a long fit.
struct FitResult;
std::function<void(int, double)> ThrottledFitProgress(const ModelProgress& progress,
                                                      std::string model, int every_ms = 2000);

// Runs model `kind` with the request `body` (docs/models.md lists each
// kind's fields; unknown fields are refused). `latest_event_us` is the
// default "as_of" (the latest stored event's time). InvalidArgument (HTTP
// 400) for a malformed body, an unknown kind, or data a model cannot be
// fitted to (no repeat customers, one outcome only...), named.
Result<ModelRun> RunModel(std::string_view kind, const Json& body, const query::QueryContext& ctx,
                          int64_t latest_event_us, const ModelProgress& progress = {});

}  // namespace quanyu::models
