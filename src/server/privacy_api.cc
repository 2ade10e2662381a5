#include "server/privacy_api.h"

#include <nlohmann/json.hpp>

#include "collect/internal/url.h"
#include "common/clock.h"
#include "common/time_util.h"

namespace quanyu::server {
namespace {

using nlohmann::json;

constexpr std::string_view kConsentPath = "/api/v1/consent";
constexpr std::string_view kConsentShape =
    "{\"identifier\": \"NAMESPACE[:SCOPE]:VALUE\", \"purposes\": {\"marketing\": \"withdrawn\"}, "
    "\"channels\": {\"sms\": \"denied\"}, \"policy_version\": \"2026-01\", \"source\": \"crm\"}";

// {"one_id": N, "purposes": ..., "channels": ..., "history": [...]}.
std::string ConsentDocument(const Engine& engine, uint32_t one_id) {
  std::string state = Engine::ConsentJson(engine.ConsentOf(one_id));
  return "{\"one_id\":" + std::to_string(one_id) + "," + state.substr(1);
}

HttpResponse PostConsent(Engine* engine, const HttpRequest& r) {
  json body = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return ErrorResponse(
        Status::InvalidArgument("body must be a JSON object " + std::string(kConsentShape)));
  }
  json consent = json::object();
  std::string identifier;
  for (const auto& [key, value] : body.items()) {
    if (key == "identifier") {
      if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
        return ErrorResponse(Status::InvalidArgument("\"identifier\" must be a non-empty string"));
      }
      identifier = value.get<std::string>();
    } else if (key == "purposes" || key == "channels") {
      if (!value.is_object()) {
        return ErrorResponse(Status::InvalidArgument(
            "\"" + key + "\" must be an object of name: \"granted\"|\"denied\"|\"withdrawn\""));
      }
      consent[key] = value;
    } else if (key == "policy_version" || key == "source") {
      if (!value.is_string()) {
        return ErrorResponse(Status::InvalidArgument("\"" + key + "\" must be a string"));
      }
      consent[key] = value;
    } else {
      return ErrorResponse(Status::InvalidArgument("unknown field \"" + key + "\"; the body is " +
                                                   std::string(kConsentShape)));
    }
  }
  if (identifier.empty()) {
    return ErrorResponse(Status::InvalidArgument("\"identifier\" (non-empty string) is required"));
  }
  auto message_id = engine->RecordConsent(identifier, consent.dump());
  if (!message_id.ok()) return ErrorResponse(message_id.status());
  auto person = engine->LookupPerson(identifier);
  if (!person.ok()) return ErrorResponse(person.status());
  std::string out = ConsentDocument(*engine, *person);
  json head{{"message_id", *message_id}};
  std::string h = head.dump();
  h.pop_back();
  return JsonResponse(201, h + "," + out.substr(1));
}

HttpResponse GetConsent(Engine* engine, const HttpRequest& r) {
  // Percent-decoded only: a literal '+' stays '+' (phone numbers).
  std::string identifier =
      collect::internal::QueryParam("?" + r.query, "identifier", /*plus_is_space=*/false);
  if (identifier.empty()) {
    return ErrorResponse(
        Status::InvalidArgument("query parameter identifier=NAMESPACE[:SCOPE]:VALUE is required"));
  }
  auto person = engine->LookupPerson(identifier);
  if (!person.ok()) return ErrorResponse(person.status());
  return JsonResponse(200, ConsentDocument(*engine, *person));
}

// {"persons", "purposes": {NAME: counts}, "channels": {NAME: counts}} with
// counts {"granted", "denied" (withdrawn included), "withdrawn", "unknown"}.
HttpResponse ConsentCoverage(const Engine& engine) {
  const privacy::ConsentCoverage c = engine.CountConsent();
  json purposes = json::object(), channels = json::object();
  for (int i = 0; i < privacy::kTopicCount; ++i) {
    const auto topic = static_cast<privacy::Topic>(i);
    json counts{{"granted", c.granted[i]},
                {"denied", c.refused[i]},
                {"withdrawn", c.withdrawn[i]},
                {"unknown", c.unknown(topic)}};
    (privacy::IsPurpose(topic) ? purposes : channels)[std::string(privacy::TopicName(topic))] =
        std::move(counts);
  }
  return JsonResponse(
      200, json{{"persons", c.persons}, {"purposes", purposes}, {"channels", channels}}.dump());
}

json KeyJson(const privacy::ApiKey& k) {
  json j{{"id", k.id},
         {"name", k.name},
         {"role", privacy::RoleName(k.role)},
         {"workspace", k.workspace},
         {"created_at", FormatTimestamp(k.created_us)}};
  j["rotated_at"] = k.rotated_us ? json(FormatTimestamp(k.rotated_us)) : json(nullptr);
  return j;
}

HttpResponse IssuedJson(int status, const privacy::IssuedKey& issued) {
  json j = KeyJson(issued.key);
  j["key"] = issued.secret;  // shown once
  return JsonResponse(status, j.dump());
}

HttpResponse CreateKey(Engine* engine, const HttpRequest& r) {
  json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return ErrorResponse(Status::InvalidArgument(
        "body must be a JSON object {\"name\": \"...\", \"role\": \"analyst\"|\"marketer\"|"
        "\"admin\", \"workspace\": \"default\"}"));
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "name" && key != "role" && key != "workspace") {
      return ErrorResponse(Status::InvalidArgument("unknown field \"" + key +
                                                   "\"; a key has name, role and workspace"));
    }
    if (!value.is_string()) {
      return ErrorResponse(Status::InvalidArgument("\"" + key + "\" must be a string"));
    }
  }
  auto role = privacy::RoleNamed(body.value("role", ""));
  if (!role.ok()) return ErrorResponse(role.status());
  auto issued =
      engine->api_keys().Create(body.value("name", ""), *role, body.value("workspace", "default"),
                                SystemClock::Default()->NowMicros());
  if (!issued.ok()) return ErrorResponse(issued.status());
  return IssuedJson(201, *issued);
}

HttpResponse KeysRoute(Engine* engine, const HttpRequest& r) {
  constexpr std::string_view kKeys = "/api/v1/keys";
  if (r.path == kKeys) {
    if (r.method == "GET") {
      json arr = json::array();
      for (const auto& k : engine->api_keys().List()) arr.push_back(KeyJson(k));
      return JsonResponse(200, json{{"keys", arr}}.dump());
    }
    if (r.method == "POST") return CreateKey(engine, r);
    return ErrorResponse(
        Status::NotFound("no API route for " + r.method + " " + r.path + " (use GET or POST)"));
  }
  std::string rest = r.path.substr(kKeys.size() + 1);
  if (rest.ends_with("/rotate") && r.method == "POST") {
    auto issued = engine->api_keys().Rotate(rest.substr(0, rest.size() - 7),
                                            SystemClock::Default()->NowMicros());
    if (!issued.ok()) return ErrorResponse(issued.status());
    return IssuedJson(200, *issued);
  }
  if (rest.find('/') == std::string::npos && r.method == "DELETE") {
    Status st = engine->api_keys().Revoke(rest);
    if (!st.ok()) return ErrorResponse(st);
    return JsonResponse(200, json{{"revoked", rest}}.dump());
  }
  return ErrorResponse(
      Status::NotFound("no API route for " + r.method + " " + r.path +
                       " (use POST /api/v1/keys/{id}/rotate or DELETE /api/v1/keys/{id})"));
}

HttpResponse AuditRoute(Engine* engine, const HttpRequest& r) {
  if (r.method != "GET") {
    return ErrorResponse(
        Status::NotFound("no API route for " + r.method + " " + r.path + " (use GET)"));
  }
  const std::string url = "?" + r.query;
  auto number = [&](const char* name, uint64_t fallback, uint64_t max) -> Result<uint64_t> {
    std::string v = collect::internal::QueryParam(url, name);
    if (v.empty()) return fallback;
    char* end = nullptr;
    unsigned long long n = std::strtoull(v.c_str(), &end, 10);
    if (*end != '\0' || v[0] == '-' || n > max) {
      return Status::InvalidArgument(std::string(name) + " must be an integer in 0.." +
                                     std::to_string(max));
    }
    return static_cast<uint64_t>(n);
  };
  auto after = number("after", 0, UINT64_MAX);
  if (!after.ok()) return ErrorResponse(after.status());
  auto limit = number("limit", 100, 10000);
  if (!limit.ok()) return ErrorResponse(limit.status());
  if (*limit == 0) return ErrorResponse(Status::InvalidArgument("limit must be in 1..10000"));
  int64_t from = INT64_MIN, to = INT64_MAX;
  for (auto [name, out] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
    std::string v = collect::internal::QueryParam(url, name);
    if (v.empty()) continue;
    auto t = ParseTimestamp(v);
    if (!t.ok())
      return ErrorResponse(t.status().WithContext(std::string("query parameter ") + name));
    *out = *t;
  }
  auto entries = engine->audit().List(*after, from, to, *limit);
  if (!entries.ok()) return ErrorResponse(entries.status());
  json arr = json::array();
  for (const auto& e : *entries) {
    arr.push_back({{"seq", e.seq},
                   {"time", FormatTimestamp(e.time_us)},
                   {"key_id", e.key_id},
                   {"role", e.role},
                   {"action", e.action},
                   {"method", e.method},
                   {"path", e.path},
                   {"status", e.status},
                   {"detail", e.detail}});
  }
  json j{{"entries", arr}};
  j["next_after"] = entries->empty() ? json(nullptr) : json(entries->back().seq);
  return JsonResponse(200, j.dump());
}

HttpResponse RequestsRoute(Engine* engine, const HttpRequest& r) {
  constexpr std::string_view kRequests = "/api/v1/privacy/requests";
  const int64_t now = SystemClock::Default()->NowMicros();
  if (r.path != kRequests) {
    if (r.method != "GET") {
      return ErrorResponse(
          Status::NotFound("no API route for " + r.method + " " + r.path + " (use GET)"));
    }
    auto q = engine->requests().Get(r.path.substr(kRequests.size() + 1));
    if (!q.ok()) return ErrorResponse(q.status());
    return JsonResponse(200, Engine::RequestJson(*q, now).dump());
  }
  if (r.method == "GET") {
    auto all = engine->requests().List();
    if (!all.ok()) return ErrorResponse(all.status());
    json arr = json::array();
    size_t open = 0, overdue = 0;
    for (const auto& q : *all) {
      json j = Engine::RequestJson(q, now);
      if (q.status == privacy::RequestStatus::kPending ||
          q.status == privacy::RequestStatus::kRunning)
        ++open;
      if (j["overdue"].get<bool>()) ++overdue;
      arr.push_back(std::move(j));
    }
    return JsonResponse(200, json{{"requests", arr}, {"open", open}, {"overdue", overdue}}.dump());
  }
  if (r.method != "POST") {
    return ErrorResponse(
        Status::NotFound("no API route for " + r.method + " " + r.path + " (use GET or POST)"));
  }
  constexpr std::string_view kShape =
      "{\"type\": \"access\"|\"delete\"|\"correct\"|\"withdraw\", \"identifier\": "
      "\"NAMESPACE[:SCOPE]:VALUE\", \"regime\": \"pipl\"|\"gdpr\"|\"ccpa\", \"traits\": {...} "
      "(correct), \"consent\": {...} (withdraw, optional)}";
  json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return ErrorResponse(
        Status::InvalidArgument("body must be a JSON object " + std::string(kShape)));
  }
  for (const auto& [key, value] : body.items()) {
    const bool text = key == "type" || key == "identifier" || key == "regime";
    const bool object = key == "traits" || key == "consent";
    if (!text && !object) {
      return ErrorResponse(Status::InvalidArgument("unknown field \"" + key + "\"; the body is " +
                                                   std::string(kShape)));
    }
    if ((text && !value.is_string()) || (object && !value.is_object())) {
      return ErrorResponse(
          Status::InvalidArgument("\"" + key + "\" must be " + (text ? "a string" : "an object")));
    }
  }
  auto type = privacy::RequestTypeNamed(body.value("type", ""));
  if (!type.ok()) return ErrorResponse(type.status());
  auto regime = privacy::RegimeNamed(body.value("regime", "pipl"));
  if (!regime.ok()) return ErrorResponse(regime.status());
  if (body.value("identifier", "").empty()) {
    return ErrorResponse(Status::InvalidArgument("\"identifier\" (non-empty string) is required"));
  }
  json detail = *type == privacy::RequestType::kCorrect ? body.value("traits", json::object())
                                                        : body.value("consent", json::object());
  auto answer =
      engine->DataSubjectRequest(*type, *regime, body["identifier"].get<std::string>(), detail);
  if (!answer.ok()) return ErrorResponse(answer.status());
  // A deletion is accepted and runs in the background: poll
  // GET /api/v1/privacy/requests/{id} until it is "completed".
  const int code = *type == privacy::RequestType::kDelete ? 202 : 201;
  return JsonResponse(code, answer->dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace

std::optional<HttpResponse> HandlePrivacyApi(Engine* engine, const HttpRequest& r,
                                             const privacy::Principal&) {
  if (r.path == "/api/v1/keys" || r.path.starts_with("/api/v1/keys/")) return KeysRoute(engine, r);
  if (r.path == "/api/v1/audit") return AuditRoute(engine, r);
  if (r.path == "/api/v1/privacy/requests" || r.path.starts_with("/api/v1/privacy/requests/")) {
    return RequestsRoute(engine, r);
  }
  if (r.path == "/api/v1/tracking-plan") {
    if (r.method == "GET") return JsonResponse(200, engine->TrackingPlanJson());
    if (r.method == "PUT") {
      Status st = engine->SetTrackingPlan(r.body);
      if (!st.ok()) return ErrorResponse(st);
      return JsonResponse(200, engine->TrackingPlanJson());
    }
    return ErrorResponse(
        Status::NotFound("no API route for " + r.method + " " + r.path + " (use GET or PUT)"));
  }
  if (r.path == "/api/v1/tracking-plan/violations") {
    if (r.method == "GET") return JsonResponse(200, engine->TrackingPlanViolationsJson());
    return ErrorResponse(
        Status::NotFound("no API route for " + r.method + " " + r.path + " (use GET)"));
  }
  if (r.path == "/api/v1/consent/coverage") {
    if (r.method == "GET") return ConsentCoverage(*engine);
    return ErrorResponse(
        Status::NotFound("no API route for " + r.method + " " + r.path + " (use GET)"));
  }
  if (r.path != kConsentPath) return std::nullopt;
  if (r.method == "POST") return PostConsent(engine, r);
  if (r.method == "GET") return GetConsent(engine, r);
  return ErrorResponse(
      Status::NotFound("no API route for " + r.method + " " + r.path + " (use GET or POST)"));
}

}  // namespace quanyu::server
