// The audience routes of the admin API (docs/openapi.yaml, docs/audiences.md):
//   /api/v1/audiences                 GET list, POST create
//   /api/v1/audiences/preview         POST {"definition": TEXT} or {"tree": {...}}
//   /api/v1/audiences/refresh         POST: realtime membership now ({"full": true} for all)
//   /api/v1/audiences/changes         GET ?after=SEQ&limit=N: audience_entered / _exited
//   /api/v1/audiences/history/{id}    GET: one person's membership changes
//   /api/v1/audiences/{name}          GET, PUT, DELETE
//   /api/v1/audiences/{name}/members  GET ?after=ONE_ID&limit=N, or ?format=csv&traits=a,b
//   /api/v1/audiences/{name}/export   POST {"destination": "csv"|"tencent_ads"|"ocean_engine"|"meta"|"google", "traits": [...]}
//   /api/v1/tags                      GET list, POST create or replace
//   /api/v1/tags/{category}/{tag}     GET members, DELETE
//   /api/v1/computed-traits           GET list, POST define and compute
//   /api/v1/computed-traits/{name}    DELETE
//   /api/v1/rfm                       GET the last run, POST run
//
// Each operation is one function from parsed arguments to the JSON the API
// answers, so the HTTP routes and `quanyu audience` print the same bytes.
// Audience evaluation runs on the HTTP thread that received the request.
//
// Thread-safety: as the engine's; every function may be called concurrently.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "audience/definition.h"
#include "engine/engine.h"
#include "server/router.h"

namespace quanyu::server {

using audience::Json;

inline constexpr size_t kDefaultPreviewSample = 10;
inline constexpr size_t kMaxMembersPage = 100'000;

// {"definition": TEXT} or {"tree": {...}} (exactly one). InvalidArgument.
Result<audience::Node> DefinitionOf(const Json& body);

// {"count", "sample": [one_id...], "definition": canonical text, "tree", "elapsed_ms"}.
Result<Json> PreviewAudience(Engine& engine, const Json& body);
// {"name", "description", "definition", "tree", "created", "updated"}.
Result<Json> CreateAudience(Engine& engine, const Json& body);
Result<Json> UpdateAudience(Engine& engine, const std::string& name, const Json& body);
// The record plus "count" (members now).
Result<Json> AudienceDocument(Engine& engine, const std::string& name);
Json ListAudiences(Engine& engine);
Status DeleteAudience(Engine& engine, const std::string& name);
// {"count", "members": [one_id...] (ascending, after `after`, at most limit >= 1), "next_after"|null}.
Result<Json> AudienceMembers(Engine& engine, const std::string& name, uint32_t after, size_t limit);
// CSV "one_id,TRAIT..." of the members the consent gate (privacy::MayUse) allows for "csv".
Result<std::string> MembersCsv(Engine& engine, const std::string& name,
                               const std::vector<std::string>& traits);
// {"destination", "members", "exported", "excluded_by_consent", "files": {name: content}}.
Result<Json> ExportAudience(Engine& engine, const std::string& name, const Json& body);
Result<Json> AudienceChanges(Engine& engine, uint64_t after, size_t limit);
Result<Json> MembershipHistory(Engine& engine, uint32_t one_id);
Result<Json> RefreshAudiences(Engine& engine, bool full);

Json ListTags(Engine& engine);
// {"category", "name", "description", and "definition" | "tree" | "identifiers": [...]}.
Result<Json> PutTag(Engine& engine, const Json& body);
Result<Json> TagMembers(Engine& engine, const std::string& category, const std::string& name);
Status DeleteTag(Engine& engine, const std::string& category, const std::string& name);

Json ListComputedTraits(Engine& engine);
// The spec (docs/computed-traits.md); answers the spec plus "persons" (values computed).
Result<Json> PutComputedTrait(Engine& engine, const Json& body);
Status DeleteComputedTrait(Engine& engine, const std::string& name);

// Options as docs/rfm.md; answers the summary (GET's answer).
Result<Json> RunRfm(Engine& engine, const Json& body);
Result<Json> RfmSummary(Engine& engine);

// Answers an authenticated admin request under one of the paths above, or
// nullopt for any other path.
std::optional<HttpResponse> HandleAudienceApi(Engine* engine, const HttpRequest& request);

}  // namespace quanyu::server
