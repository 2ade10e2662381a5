#include "server/profile_api.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "collect/internal/url.h"
#include "collect/segment_writer.h"
#include "common/json_text.h"

namespace quanyu::server {
namespace {

using nlohmann::json;

constexpr std::string_view kProfilesPath = "/api/v1/profiles";
constexpr std::string_view kUnbindPath = "/api/v1/identity/unbind";
constexpr std::string_view kSplitPath = "/api/v1/identity/split";

// Parses a decimal number of digits only (no sign, no blanks) into `*out`;
// false if it is not one or exceeds `max`.
bool ParseDecimal(std::string_view text, uint64_t max, uint64_t* out) {
  if (text.empty() || text.size() > 20 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && *out <= max;
}

void AppendRequested(std::string* out, uint32_t live, uint32_t requested) {
  if (live != requested) *out += ",\"requested_one_id\":" + std::to_string(requested);
}

// A body that must be a JSON object; InvalidArgument naming `shape` if not.
Result<json> ParseBodyObject(const std::string& body, std::string_view shape) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument("body must be a JSON object " + std::string(shape));
  }
  return j;
}

Result<std::string> RequiredString(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return Status::InvalidArgument(std::string("\"") + field + "\" (non-empty string) is required");
  }
  return it->get<std::string>();
}

HttpResponse Render(const Result<std::string>& document) {
  if (!document.ok()) return ErrorResponse(document.status());
  return JsonResponse(200, *document);
}

HttpResponse WrongMethod(const HttpRequest& r, std::string_view allowed) {
  return ErrorResponse(Status::NotFound("no API route for " + r.method + " " + r.path + " (use " +
                                        std::string(allowed) + ")"));
}

HttpResponse UnbindRoute(Engine* engine, const HttpRequest& r) {
  auto body = ParseBodyObject(r.body, "{\"identifier\": \"NAMESPACE[:SCOPE]:VALUE\"}");
  if (!body.ok()) return ErrorResponse(body.status());
  auto identifier = RequiredString(*body, "identifier");
  if (!identifier.ok()) return ErrorResponse(identifier.status());
  return Render(UnbindDocument(engine, *identifier));
}

HttpResponse SplitRoute(Engine* engine, const HttpRequest& r) {
  auto body = ParseBodyObject(r.body, "{\"one_id\": N, \"message_id\": \"...\"}");
  if (!body.ok()) return ErrorResponse(body.status());
  auto one_id = body->find("one_id");
  if (one_id == body->end() || !one_id->is_number_unsigned() || one_id->get<uint64_t>() == 0 ||
      one_id->get<uint64_t>() > UINT32_MAX) {
    return ErrorResponse(
        Status::InvalidArgument("\"one_id\" (an integer in 1..4294967295) is required"));
  }
  auto message_id = RequiredString(*body, "message_id");
  if (!message_id.ok()) return ErrorResponse(message_id.status());
  return Render(SplitDocument(engine, static_cast<uint32_t>(one_id->get<uint64_t>()), *message_id));
}

// GET /api/v1/profiles/{one_id}[/events|/identity]; `rest` follows the
// "/api/v1/profiles/" prefix.
std::optional<HttpResponse> PersonRoute(const Engine& engine, const HttpRequest& r,
                                        std::string_view rest) {
  auto slash = rest.find('/');
  std::string_view one_id = rest.substr(0, slash);
  std::string_view view = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (view != "" && view != "events" && view != "identity") return std::nullopt;
  if (r.method != "GET") return WrongMethod(r, "GET");
  if (view == "events") {
    std::string url = "?" + r.query;
    return Render(TimelineDocument(engine, one_id, collect::internal::QueryParam(url, "cursor"),
                                   collect::internal::QueryParam(url, "limit")));
  }
  if (view == "identity") return Render(IdentityDocument(engine, one_id));
  return Render(ProfileDocument(engine, one_id));
}

}  // namespace

Result<uint32_t> ParseOneId(std::string_view text) {
  uint64_t v = 0;
  if (!ParseDecimal(text, UINT32_MAX, &v) || v == 0) {
    return Status::InvalidArgument("one_id must be a positive decimal integer below 2^32, got \"" +
                                   std::string(text) + "\"");
  }
  return static_cast<uint32_t>(v);
}

Result<size_t> ParseTimelineLimit(std::string_view text) {
  if (text.empty()) return kDefaultTimelineLimit;
  uint64_t v = 0;
  if (!ParseDecimal(text, kMaxTimelineLimit, &v) || v == 0) {
    return Status::InvalidArgument("limit must be an integer in 1.." +
                                   std::to_string(kMaxTimelineLimit) + ", got \"" +
                                   std::string(text) + "\"");
  }
  return static_cast<size_t>(v);
}

Result<std::string> ProfileDocument(const Engine& engine, std::string_view one_id) {
  ASSIGN_OR_RETURN(uint32_t id, ParseOneId(one_id));
  return engine.ProfileJson(id);
}

Result<std::string> ProfileByIdentifierDocument(const Engine& engine, std::string_view identifier) {
  if (identifier.empty()) {
    return Status::InvalidArgument(
        "identifier is required: NAMESPACE[:SCOPE]:VALUE, e.g. phone:+8613800138000");
  }
  ASSIGN_OR_RETURN(uint32_t person, engine.LookupPerson(identifier));
  return engine.ProfileJson(person);
}

Result<std::string> TimelineDocument(const Engine& engine, std::string_view one_id,
                                     const std::string& cursor, std::string_view limit) {
  ASSIGN_OR_RETURN(uint32_t requested, ParseOneId(one_id));
  ASSIGN_OR_RETURN(size_t page_size, ParseTimelineLimit(limit));
  ASSIGN_OR_RETURN(uint32_t live, engine.ResolvePerson(requested));
  ASSIGN_OR_RETURN(Engine::TimelinePage page, engine.PersonEvents(live, cursor, page_size));
  std::string out = "{\"one_id\":" + std::to_string(live);
  AppendRequested(&out, live, requested);
  out += ",\"events\":[";
  for (size_t i = 0; i < page.events.size(); ++i) {
    if (i) out.push_back(',');
    // The /api/v1/events rendering, with the person it belongs to now.
    collect::AppendSegmentJson(page.events[i], &out);
    out.pop_back();  // '}'
    out += ",\"one_id\":" + std::to_string(page.events[i].one_id) + "}";
  }
  out += "],\"next_cursor\":";
  if (page.next_cursor.empty()) {
    out += "null";
  } else {
    AppendJsonString(&out, page.next_cursor);
  }
  out += "}";
  return out;
}

Result<std::string> IdentityDocument(const Engine& engine, std::string_view one_id) {
  ASSIGN_OR_RETURN(uint32_t id, ParseOneId(one_id));
  return engine.IdentityJson(id);
}

Result<std::string> UnbindDocument(Engine* engine, std::string_view identifier) {
  ASSIGN_OR_RETURN(std::string message_id, engine->Unbind(identifier));
  auto holder = engine->LookupPerson(identifier);
  std::string out = "{\"message_id\":";
  AppendJsonString(&out, message_id);
  out += ",\"one_id\":" + (holder.ok() ? std::to_string(*holder) : std::string("null")) + "}";
  return out;
}

Result<std::string> SplitDocument(Engine* engine, uint32_t one_id, const std::string& message_id) {
  // The identifiers of the links to undo, read before they are undone.
  std::vector<std::string> identifiers;
  if (auto person = engine->identity().Describe(one_id)) {
    for (const auto& link : person->links) {
      if (link.kind == "link" && !link.removed && link.message_id == message_id) {
        identifiers.insert(identifiers.end(), link.identifiers.begin(), link.identifiers.end());
      }
    }
  }
  ASSIGN_OR_RETURN(std::string correction, engine->Split(one_id, message_id));
  std::set<uint32_t> persons;
  for (const auto& id : identifiers) {
    if (auto holder = engine->LookupPerson(id); holder.ok()) persons.insert(*holder);
  }
  std::string out = "{\"message_id\":";
  AppendJsonString(&out, correction);
  out += ",\"persons\":[";
  bool first = true;
  for (uint32_t p : persons) {
    if (!first) out.push_back(',');
    first = false;
    out += std::to_string(p);
  }
  out += "]}";
  return out;
}

std::optional<HttpResponse> HandleProfileApi(Engine* engine, const HttpRequest& r) {
  std::string_view path = r.path;
  if (path == kProfilesPath) {
    if (r.method != "GET") return WrongMethod(r, "GET");
    // Percent-decoded only: a literal '+' stays '+', so
    // ?identifier=phone:+8613800138000 works as typed.
    return Render(ProfileByIdentifierDocument(
        *engine, collect::internal::QueryParam("?" + r.query, "identifier",
                                               /*plus_is_space=*/false)));
  }
  if (path.starts_with(kProfilesPath) && path.size() > kProfilesPath.size() &&
      path[kProfilesPath.size()] == '/') {
    return PersonRoute(*engine, r, path.substr(kProfilesPath.size() + 1));
  }
  if (path == kUnbindPath) {
    if (r.method != "POST") return WrongMethod(r, "POST");
    return UnbindRoute(engine, r);
  }
  if (path == kSplitPath) {
    if (r.method != "POST") return WrongMethod(r, "POST");
    return SplitRoute(engine, r);
  }
  return std::nullopt;
}

}  // namespace quanyu::server
