// GET /api/v1/settings (admin): the configuration the dashboard's Settings
// page shows, read-only — the identity rules in force (namespaces with
// their limits and priorities, caps, junk values, the default phone
// region) and the channel taxonomy (configured rules, then the built-in
// tables in the order they are tried). No secrets: no keys, no write keys.
//
// Thread-safety: as the engine's.
#pragma once

#include "engine/engine.h"
#include "server/http_message.h"

namespace quanyu::server {

HttpResponse SettingsResponse(const Engine& engine);

}  // namespace quanyu::server
