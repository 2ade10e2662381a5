// The admin REST API under /api/v1/ (docs/openapi.yaml). Every route needs
// "Authorization: Bearer <admin key>". The One-ID routes (profiles, identity
// corrections) are in profile_api.cc, the analytics routes (queries, event
// catalog) in query_api.cc.
#include <openssl/crypto.h>

#include <nlohmann/json.hpp>

#include "collect/internal/url.h"
#include "collect/segment_writer.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "common/time_util.h"
#include "privacy/mask.h"
#include "server/audience_api.h"
#include "server/privacy_api.h"
#include "server/profile_api.h"
#include "server/query_api.h"
#include "server/router.h"
#include "server/settings_api.h"

namespace quanyu::server {
namespace {

using nlohmann::json;

bool KeyMatches(std::string_view given, std::string_view expected) {
  return !expected.empty() && given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

std::string Param(const HttpRequest& r, std::string_view name) {
  return collect::internal::QueryParam("?" + r.query, name);
}

Result<int64_t> TimeParam(const HttpRequest& r, std::string_view name, int64_t fallback) {
  std::string v = Param(r, name);
  if (v.empty()) return fallback;
  auto t = ParseTimestamp(v);
  if (!t.ok()) return t.status().WithContext(std::string("query parameter ") + std::string(name));
  return *t;
}

HttpResponse ListSources(Engine* engine) {
  json arr = json::array();
  for (const auto& s : engine->ListSources()) {
    arr.push_back({{"name", s.name}, {"type", s.type}, {"write_key", s.write_key}});
  }
  return JsonResponse(200, json{{"sources", arr}}.dump());
}

HttpResponse CreateSource(Engine* engine, const HttpRequest& r) {
  json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return ErrorResponse(
        Status::InvalidArgument("body must be a JSON object {\"name\", \"type\"}"));
  }
  if (!body.contains("name") || !body["name"].is_string()) {
    return ErrorResponse(Status::InvalidArgument("\"name\" (string) is required"));
  }
  std::string type = body.value("type", "web");
  auto s = engine->AddSource(body["name"].get<std::string>(), type);
  if (!s.ok()) return ErrorResponse(s.status());
  return JsonResponse(
      201, json{{"name", s->name}, {"type", s->type}, {"write_key", s->write_key}}.dump());
}

// POST /api/v1/sources/{name}/rotate.
HttpResponse RotateSource(Engine* engine, std::string_view name) {
  auto s = engine->RotateSourceKey(std::string(name));
  if (!s.ok()) return ErrorResponse(s.status());
  return JsonResponse(
      200, json{{"name", s->name}, {"type", s->type}, {"write_key", s->write_key}}.dump());
}

HttpResponse Stats(Engine* engine) {
  EngineStats s = engine->Stats();
  json j{{"events",
          {{"stored", s.store.segment_events},
           {"buffered", s.store.buffered_events},
           {"total", s.store.segment_events + s.store.buffered_events}}},
         {"segments", s.store.segments},
         {"segment_bytes", s.store.segment_bytes},
         {"checkpoint_lsn", s.store.checkpoint_lsn},
         {"log", {{"durable_lsn", s.log_durable_lsn}, {"queued_bytes", s.log_queued_bytes}}},
         {"dedupe_ids", s.dedupe_ids},
         {"identity",
          {{"identifiers", s.identity.identifiers},
           {"persons", s.identity.persons},
           {"aliases", s.identity.aliases},
           {"edges", s.identity.edges},
           {"events", s.identity.events},
           {"links", s.identity.links},
           {"merges", s.identity.merges},
           {"conflicts", s.identity.conflicts},
           {"rebuilds", s.identity.rebuilds},
           {"late_fallbacks", s.identity.late_fallbacks},
           {"failed_corrections", s.identity.failed_corrections},
           {"memory_bytes", s.identity.memory_bytes},
           {"applied_lsn", s.identity_lsn},
           {"profile_partials", s.profile_partials}}}};
  if (s.store.min_timestamp_us || s.store.max_timestamp_us) {
    j["first_event_at"] = FormatTimestamp(s.store.min_timestamp_us);
    j["last_event_at"] = FormatTimestamp(s.store.max_timestamp_us);
  }
  return JsonResponse(200, j.dump());
}

HttpResponse IngestHealth(const Engine& engine) {
  IngestActivity a = engine.IngestHealth();
  json seconds = json::array();
  for (const auto& s : a.per_second) {
    seconds.push_back({{"t", FormatTimestamp(s.second * 1'000'000)},
                       {"accepted", s.accepted},
                       {"rejected", s.rejected}});
  }
  json j{{"accepted_total", a.accepted_total},
         {"rejected_total", a.rejected_total},
         {"rejections", a.rejections},
         {"events_per_second_1m", a.events_per_second_1m},
         {"events_per_second_peak_1m", a.events_per_second_peak_1m},
         {"since", FormatTimestamp(a.since_us)},
         {"per_second", seconds}};
  return JsonResponse(200, j.dump());
}

HttpResponse ListEvents(Engine* engine, const HttpRequest& r) {
  auto from = TimeParam(r, "from", INT64_MIN);
  if (!from.ok()) return ErrorResponse(from.status());
  auto to = TimeParam(r, "to", INT64_MAX);
  if (!to.ok()) return ErrorResponse(to.status());
  std::string limit_text = Param(r, "limit");
  size_t limit = 100;
  if (!limit_text.empty()) {
    char* end = nullptr;
    long v = std::strtol(limit_text.c_str(), &end, 10);
    if (*end != '\0' || v < 1 || v > 10000) {
      return ErrorResponse(Status::InvalidArgument("limit must be an integer in 1..10000"));
    }
    limit = static_cast<size_t>(v);
  }
  std::string name = Param(r, "event");
  store::ScanRequest scan;
  scan.from_us = *from;
  scan.to_us = *to;
  std::string out = "{\"events\":[";
  size_t n = 0;
  bool full = false;
  Status st = engine->ScanEvents(scan, [&](const store::EventBatch& batch) -> Status {
    for (const auto& e : batch) {
      if (!name.empty() && e.name != name) continue;
      if (n == limit) {
        full = true;
        return Status::Unavailable("limit reached");  // stops the scan early
      }
      if (n++) out.push_back(',');
      collect::AppendSegmentJson(e, &out);
    }
    return Status::OK();
  });
  if (!st.ok() && !full) return ErrorResponse(st);
  out += "],\"count\":" + std::to_string(n) + "}";
  return JsonResponse(200, std::move(out));
}

HttpResponse ListSpend(Engine* engine, const HttpRequest& r) {
  auto rows = engine->ListSpend(Param(r, "from"), Param(r, "to"));
  if (!rows.ok()) return ErrorResponse(rows.status());
  json arr = json::array();
  for (const auto& s : *rows) {
    arr.push_back({{"date", s.date},
                   {"channel", s.channel},
                   {"campaign", s.campaign},
                   {"spend", s.spend},
                   {"impressions", s.impressions},
                   {"clicks", s.clicks}});
  }
  return JsonResponse(200, json{{"spend", arr}}.dump());
}

// The dashboard's pages, each with the route it cannot work without.
struct DashboardPage {
  const char* name;
  const char* method;
  const char* path;
};
constexpr DashboardPage kDashboardPages[] = {
    {"overview", "POST", "/api/v1/query/kpis"},
    {"touchpoints", "POST", "/api/v1/query/touchpoints"},
    {"funnels", "POST", "/api/v1/query/funnel"},
    {"retention", "POST", "/api/v1/query/retention"},
    {"paths", "POST", "/api/v1/query/paths"},
    {"attribution", "POST", "/api/v1/attribution"},
    {"audiences", "GET", "/api/v1/audiences"},
    {"profiles", "GET", "/api/v1/profiles"},
    {"predictions", "GET", "/api/v1/models"},
    {"privacy", "GET", "/api/v1/privacy/requests"},
    {"settings", "GET", "/api/v1/keys"},
};

// Who the caller is and the dashboard pages the role table lets it use.
HttpResponse Session(const Engine& engine, const privacy::Principal& who) {
  json pages = json::array();
  for (const auto& page : kDashboardPages) {
    if (privacy::AccessFor(who.role, page.method, page.path).allowed) pages.push_back(page.name);
  }
  // The sources' names for the dashboard's source filter: every role may
  // filter by source; only an admin may see write keys (GET /sources).
  json sources = json::array();
  for (const auto& s : engine.ListSources()) sources.push_back(s.name);
  return JsonResponse(200, json{{"key_id", who.key_id},
                                {"role", privacy::RoleName(who.role)},
                                {"workspace", who.workspace},
                                {"pages", pages},
                                {"sources", sources}}
                               .dump());
}

void CountApiDenial(const char* reason) {
  MetricsRegistry::Default()
      ->GetCounter("quanyu_api_denied_total", "API requests refused, by reason",
                   {{"reason", reason}})
      ->Add(1);
}

}  // namespace

// Who sent the request: the bootstrap admin key, an API key, or nobody
// (Unauthenticated; PermissionDenied for a source's write key).
Result<privacy::Principal> Router::Authenticate(const HttpRequest& r) const {
  std::string_view auth = r.Header("authorization");
  std::string token;
  if (auth.size() > 7 && (auth.substr(0, 7) == "Bearer " || auth.substr(0, 7) == "bearer ")) {
    token = std::string(auth.substr(7));
  }
  if (token.empty()) {
    return Status::Unauthenticated("missing API key: send Authorization: Bearer KEY");
  }
  if (KeyMatches(token, admin_key_)) return privacy::Principal{"bootstrap", privacy::Role::kAdmin};
  if (auto key = engine_->api_keys().Authenticate(token)) {
    return privacy::Principal{key->id, key->role, key->workspace};
  }
  if (engine_->LookupSource(token)) {
    return Status::PermissionDenied(
        "this is a source's write key: it may only send events (/v1/*, /sa); use an API key");
  }
  return Status::Unauthenticated("unknown API key");
}

void Router::HandleApi(HttpRequest& r, Respond respond) {
  auto principal = Authenticate(r);
  if (!principal.ok()) {
    CountApiDenial(principal.status().code() == StatusCode::kPermissionDenied ? "forbidden"
                                                                              : "unauthenticated");
    return respond(ErrorResponse(principal.status()));
  }
  const privacy::RouteAccess access =
      privacy::AccessFor(principal->role, r.method, r.path, r.query);
  if (!access.allowed) {
    CountApiDenial("forbidden");
    return respond(ErrorResponse(
        Status::PermissionDenied("role " + std::string(privacy::RoleName(principal->role)) +
                                 " may not " + r.method + " " + r.path)));
  }
  {
    // Answer through a wrapper that reveals the personal data tokenized at
    // rest (privacy/pii.h), masks it for roles that may not see it, and
    // records the access in the audit log.
    respond = [this, respond = std::move(respond), access, who = *principal, method = r.method,
               path = r.path](HttpResponse answer) {
      const bool json = answer.content_type == "application/json";
      size_t revealed = 0;
      if (answer.body.find(privacy::kPiiTokenPrefix) != std::string::npos) {
        answer.body = engine_->RevealPii(answer.body, access.mask_pii, json, &revealed);
      }
      if (access.mask_pii && json && answer.status < 300) {
        answer.body = privacy::MaskPiiJson(answer.body);
      }
      const bool pii_seen = access.pii_access || (revealed > 0 && !access.mask_pii);
      if (pii_seen || access.admin_action) {
        privacy::AuditEntry e;
        e.time_us = SystemClock::Default()->NowMicros();
        e.key_id = who.key_id;
        e.role = std::string(privacy::RoleName(who.role));
        e.action = pii_seen ? "pii_access" : "admin_action";
        e.method = method;
        e.status = answer.status;
        // A path may name a person ("/api/v1/profiles/email:..."): stored
        // tokenized, like every direct identifier at rest.
        auto protected_path = engine_->ProtectText(path);
        Status st = protected_path.status();
        if (st.ok()) {
          e.path = std::move(*protected_path);
          st = engine_->audit().Append(std::move(e));
        }
        if (!st.ok()) {
          // An access that cannot be recorded is not given.
          answer = ErrorResponse(Status::Unavailable("audit log write failed: " + st.ToString()));
        }
      }
      respond(std::move(answer));
    };
  }

  const std::string& p = r.path;
  const std::string& m = r.method;
  if (p == "/api/v1/sources" && m == "GET") return respond(ListSources(engine_));
  if (p == "/api/v1/sources" && m == "POST") return respond(CreateSource(engine_, r));
  if (p.starts_with("/api/v1/sources/") && p.ends_with("/rotate") && m == "POST") {
    constexpr size_t kPrefix = std::string_view("/api/v1/sources/").size();
    constexpr size_t kSuffix = std::string_view("/rotate").size();
    if (p.size() > kPrefix + kSuffix) {
      std::string name =
          collect::internal::PercentDecode(p.substr(kPrefix, p.size() - kPrefix - kSuffix), false);
      return respond(RotateSource(engine_, name));
    }
  }
  if (p == "/api/v1/settings" && m == "GET") return respond(SettingsResponse(*engine_));
  if (p == "/api/v1/session" && m == "GET") return respond(Session(*engine_, *principal));
  if (p == "/api/v1/stats" && m == "GET") return respond(Stats(engine_));
  if (p == "/api/v1/ingest" && m == "GET") return respond(IngestHealth(*engine_));
  if (p == "/api/v1/events" && m == "GET") return respond(ListEvents(engine_, r));
  if (p == "/api/v1/spend" && m == "GET") return respond(ListSpend(engine_, r));
  if (auto answer = HandleProfileApi(engine_, r)) return respond(std::move(*answer));
  if (HandleQueryApi(engine_, r, respond)) return;
  if (auto answer = HandleAudienceApi(engine_, r)) return respond(std::move(*answer));
  if (auto answer = HandlePrivacyApi(engine_, r, *principal)) return respond(std::move(*answer));
  respond(ErrorResponse(Status::NotFound("no API route for " + m + " " + p)));
}

}  // namespace quanyu::server
