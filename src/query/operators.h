// The operators RunQuery dispatches to, one per file of this folder. Each
// parses its JSON body (docs/openapi.yaml), checks names against the
// catalog, scans and answers JSON in the shape docs/metrics.md gives.
#pragma once

#include "common/result.h"
#include "query/query.h"

namespace quanyu::query {

Result<Json> RunFunnel(const Json& body, const QueryContext& ctx);       // funnel.cc
Result<Json> RunRetention(const Json& body, const QueryContext& ctx);    // retention.cc
Result<Json> RunPaths(const Json& body, const QueryContext& ctx);        // paths.cc
Result<Json> RunTouchpoints(const Json& body, const QueryContext& ctx);  // touchpoints.cc
Result<Json> RunKpis(const Json& body, const QueryContext& ctx);         // kpis.cc
Result<Json> RunTrends(const Json& body, const QueryContext& ctx);       // trends.cc

}  // namespace quanyu::query
