// The single mapping from Status codes to HTTP statuses and the JSON error
// body {"error": {"code", "message"}}. Stateless; thread-safe.
#pragma once

#include <string>

#include "common/status.h"

namespace quanyu::server {

int HttpStatusFor(StatusCode code);
// "invalid_argument", "unauthenticated", ...
std::string ErrorCodeFor(StatusCode code);
// {"error":{"code":"...","message":"..."}}
std::string ErrorJson(const Status& status);

}  // namespace quanyu::server
