// The privacy routes of the API (docs/openapi.yaml): /api/v1/consent
// (record consent decisions for an identifier, read a person's ledger),
// /api/v1/consent/coverage (persons per consent status, per purpose and
// channel),
// /api/v1/keys (API keys with roles: create, list, rotate, revoke) and
// /api/v1/audit (the audit log). Authorization happened before (router).
//
// Thread-safety: as the engine's.
#pragma once

#include <optional>

#include "engine/engine.h"
#include "server/router.h"

namespace quanyu::server {

// Answers an authorized request for one of the paths above; nullopt for any
// other path. `who` names the key that creates or rotates another.
std::optional<HttpResponse> HandlePrivacyApi(Engine* engine, const HttpRequest& request,
                                             const privacy::Principal& who);

}  // namespace quanyu::server
