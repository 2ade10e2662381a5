// The One-ID operations of the admin API (docs/openapi.yaml, paths under
// /api/v1/profiles and /api/v1/identity): profile by one_id or identifier,
// a person's event timeline, their identity graph, and the unbind / split
// corrections.
//
// Each operation is one function from the request's values (as text, the way
// a URL or a command line gives them) to the JSON document the API answers,
// so the HTTP handlers and `quanyu profile` print the same bytes. Each
// parses its arguments (InvalidArgument on bad input), calls one engine entry
// point and renders; the engine's NotFound passes through unchanged.
//
// Thread-safety: as the engine's; every function may be called concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "engine/engine.h"
#include "server/router.h"

namespace quanyu::server {

inline constexpr size_t kDefaultTimelineLimit = 50;
inline constexpr size_t kMaxTimelineLimit = 1000;

// A one_id as written in a path or on a command line: a positive decimal
// integer below 2^32, digits only. InvalidArgument otherwise.
Result<uint32_t> ParseOneId(std::string_view text);
// A timeline page size: decimal 1..kMaxTimelineLimit; "" gives
// kDefaultTimelineLimit. InvalidArgument otherwise.
Result<size_t> ParseTimelineLimit(std::string_view text);

// engine.ProfileJson: {"one_id", ["requested_one_id",] "identifiers",
// "traits", ..., "merge_history"}. An alias answers with the survivor.
Result<std::string> ProfileDocument(const Engine& engine, std::string_view one_id);
// The profile of the person holding "NAMESPACE[:SCOPE]:VALUE";
// InvalidArgument if malformed, junk or of an unknown namespace.
Result<std::string> ProfileByIdentifierDocument(const Engine& engine, std::string_view identifier);
// {"one_id", ["requested_one_id",] "events":[Segment JSON + "one_id"],
//  "next_cursor": string|null}, newest first.
Result<std::string> TimelineDocument(const Engine& engine, std::string_view one_id,
                                     const std::string& cursor, std::string_view limit);
// engine.IdentityJson: identifiers, links with their messageIds, merges and
// conflicts.
Result<std::string> IdentityDocument(const Engine& engine, std::string_view one_id);
// Unbinds the identifier: {"message_id": the correction's id,
// "one_id": the person that holds the identifier afterwards}.
Result<std::string> UnbindDocument(Engine* engine, std::string_view identifier);
// Undoes the links person `one_id` got from event `message_id`:
// {"message_id": the correction's id, "persons": [one_ids that hold the
// identifiers of the undone links afterwards, ascending]}.
Result<std::string> SplitDocument(Engine* engine, uint32_t one_id, const std::string& message_id);

// Answers an admin request (already authenticated) whose path is
// /api/v1/profiles[/...] or /api/v1/identity/...; nullopt for any other path.
// A known path with the wrong method answers 404 like every unknown API
// route, naming the method it accepts.
std::optional<HttpResponse> HandleProfileApi(Engine* engine, const HttpRequest& request);

}  // namespace quanyu::server
