// The analytics routes of the admin API (docs/openapi.yaml):
//   POST /api/v1/query/{kind}   kind = funnel, retention, paths, touchpoints,
//                               kpis or trends; the body is the query
//                               (docs/metrics.md); answers the engine's JSON
//   GET  /api/v1/catalog/events the event names, counts, time ranges and
//                               property keys the store holds
//   POST /api/v1/attribution    multi-touch attribution (docs/attribution.md)
//   POST /api/v1/models/{kind}  kind = clv, churn, propensity or recommend:
//                               fit, score and store predicted traits
//                               (docs/models.md); GET /api/v1/models lists
//                               the stored ones, GET
//                               /api/v1/models/{kind}/report the last
//                               stored run's answer
// Thin: parse the body, call Engine::QueryAsync / Engine::EventCatalog,
// render. Queries run on the engine's query workers, never on an HTTP
// thread, so a long query does not hold up collection.
//
// Thread-safety: as the engine's; every function may be called concurrently.
#pragma once

#include <cstddef>
#include <string>

#include "engine/engine.h"
#include "server/router.h"
#include "store/catalog.h"

namespace quanyu::server {

// Query bodies above this are refused with 413 (the server's own body limit,
// about twice [limits] max_batch_bytes, may refuse them first).
inline constexpr size_t kMaxQueryBodyBytes = size_t{1} << 20;

// {"events": [{"name", "count", "first_seen", "last_seen", "properties":
// [...]}]} by name; times as RFC 3339 UTC. "complete": false (top level or
// per event) when the catalog dropped names or keys past its bounds.
std::string CatalogDocument(const store::EventCatalog& catalog);

// The parsed body of a query request: InvalidArgument for malformed JSON
// (with the parser's position) or a body that is not an object;
// PayloadTooLarge above kMaxQueryBodyBytes.
// `example` shows the shape in the not-an-object error.
Result<query::Json> ParseQueryBody(
    const std::string& body,
    std::string_view example = R"({"from": "2026-01-01", "to": "2026-02-01", ...})");

// Answers an admin request (already authenticated) whose path is under
// /api/v1/query or is /api/v1/catalog/events, /api/v1/attribution or under /api/v1/models, through
// `respond` (moved from; called exactly once, maybe from a query worker thread), and returns true;
// returns false, leaving `respond` alone, for any other path.
bool HandleQueryApi(Engine* engine, const HttpRequest& request, Respond& respond);

}  // namespace quanyu::server
