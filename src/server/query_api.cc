#include "server/query_api.h"

#include <nlohmann/json.hpp>

#include "common/time_util.h"
#include "query/query.h"
#include "server/http_status.h"

namespace quanyu::server {
namespace {

using nlohmann::json;

constexpr std::string_view kQueryPrefix = "/api/v1/query";
constexpr std::string_view kCatalogPath = "/api/v1/catalog/events";
constexpr std::string_view kAttributionPath = "/api/v1/attribution";
constexpr std::string_view kModelsPath = "/api/v1/models";

// Answers may carry names collected from CSV files with invalid UTF-8:
// replaced (U+FFFD) rather than failing the whole answer.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

HttpResponse WrongMethod(const HttpRequest& r, std::string_view allowed) {
  return ErrorResponse(Status::NotFound("no API route for " + r.method + " " + r.path + " (use " +
                                        std::string(allowed) + ")"));
}

std::string KindList() {
  std::string out;
  const auto& kinds = query::QueryKinds();
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (i > 0) out += i + 1 == kinds.size() ? " or " : ", ";
    out += kinds[i];
  }
  return out;
}

// 404 with the kinds there are, as {"error": {"code", "message", "kinds"}}.
HttpResponse UnknownKind(std::string_view kind) {
  const Status st = Status::NotFound("unknown query \"" + std::string(kind) + "\": use " +
                                     KindList() + " (POST /api/v1/query/KIND)");
  json j = json::parse(ErrorJson(st));
  j["error"]["kinds"] = query::QueryKinds();
  return JsonResponse(HttpStatusFor(st.code()), Dump(j));
}

bool IsKind(std::string_view kind) {
  for (const auto& k : query::QueryKinds()) {
    if (k == kind) return true;
  }
  return false;
}

// Renders a worker's answer: 200 with the JSON, or the error (429 with
// Retry-After when the workers' queue is full).
Engine::QueryCallback Render(Respond respond) {
  return [respond = std::move(respond)](Result<query::Json> answer) {
    if (answer.ok()) return respond(JsonResponse(200, Dump(*answer)));
    HttpResponse error = ErrorResponse(answer.status());
    if (answer.status().code() == StatusCode::kResourceExhausted) {
      error.headers.push_back({"Retry-After", "1"});
    }
    respond(std::move(error));
  };
}

void QueryRoute(Engine* engine, const HttpRequest& r, std::string_view kind, Respond respond) {
  if (!IsKind(kind)) return respond(UnknownKind(kind));
  if (r.method != "POST") return respond(WrongMethod(r, "POST"));
  auto body = ParseQueryBody(r.body);
  if (!body.ok()) return respond(ErrorResponse(body.status()));
  engine->QueryAsync(std::string(kind), std::move(*body), Render(std::move(respond)));
}

void AttributionRoute(Engine* engine, const HttpRequest& r, Respond respond) {
  if (r.method != "POST") return respond(WrongMethod(r, "POST"));
  auto body = ParseQueryBody(r.body);
  if (!body.ok()) return respond(ErrorResponse(body.status()));
  engine->AttributionAsync(std::move(*body), Render(std::move(respond)));
}

// POST /api/v1/models/{kind}: fit and score on a query worker; an empty
// body takes every default. GET /api/v1/models: the stored predicted traits.
// GET /api/v1/models/{kind}/report: the answer of the last run that stored.
void ModelRoute(Engine* engine, const HttpRequest& r, std::string_view kind, Respond respond) {
  if (kind.ends_with("/report")) {
    // GET /api/v1/models/{kind}/report: the last stored run's answer.
    if (r.method != "GET") return respond(WrongMethod(r, "GET"));
    auto report = engine->ModelReport(kind.substr(0, kind.size() - 7));
    if (!report.ok()) return respond(ErrorResponse(report.status()));
    return respond(JsonResponse(200, Dump(*report)));
  }
  if (kind.empty()) {
    if (r.method != "GET") return respond(WrongMethod(r, "GET"));
    return respond(
        JsonResponse(200, Dump({{"kinds", models::ModelKinds()},
                                {"predicted_traits", engine->audiences().PredictedSummary()}})));
  }
  bool known = false;
  for (const auto& k : models::ModelKinds()) known = known || k == kind;
  if (!known) {
    return respond(ErrorResponse(Status::NotFound("unknown model \"" + std::string(kind) +
                                                  "\": use clv, churn, propensity or recommend "
                                                  "(POST /api/v1/models/KIND)")));
  }
  if (r.method != "POST") return respond(WrongMethod(r, "POST"));
  auto body = r.body.find_first_not_of(" \t\r\n") == std::string::npos
                  ? Result<query::Json>(json::object())
                  : ParseQueryBody(r.body, R"({"model": "bgnbd", "months": 12})");
  if (!body.ok()) return respond(ErrorResponse(body.status()));
  engine->ModelAsync(std::string(kind), std::move(*body), Render(std::move(respond)));
}

}  // namespace

std::string CatalogDocument(const store::EventCatalog& catalog) {
  // Ordered so a person reading it sees the name first.
  using Ordered = nlohmann::ordered_json;
  Ordered events = Ordered::array();
  for (const auto& [name, e] : catalog.events) {
    Ordered entry = {{"name", name},
                     {"count", e.count},
                     {"first_seen", FormatTimestamp(e.first_us)},
                     {"last_seen", FormatTimestamp(e.last_us)},
                     {"properties", e.properties}};
    if (!e.properties_complete) entry["complete"] = false;
    events.push_back(std::move(entry));
  }
  Ordered j = {{"events", std::move(events)}};
  if (!catalog.events_complete) j["complete"] = false;
  return j.dump(-1, ' ', false, Ordered::error_handler_t::replace);
}

Result<query::Json> ParseQueryBody(const std::string& body, std::string_view example) {
  if (body.size() > kMaxQueryBodyBytes) {
    return Status::PayloadTooLarge("query body of " + std::to_string(body.size()) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(kMaxQueryBodyBytes));
  }
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 3: ..."
    std::string what = e.what();
    if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    return Status::InvalidArgument("the request body is not valid JSON: " + what);
  }
  if (!j.is_object()) {
    return Status::InvalidArgument("the request body must be a JSON object, e.g. " +
                                   std::string(example));
  }
  return j;
}

bool HandleQueryApi(Engine* engine, const HttpRequest& r, Respond& respond) {
  std::string_view path = r.path;
  if (path == kCatalogPath) {
    if (r.method != "GET") {
      respond(WrongMethod(r, "GET"));
    } else {
      respond(JsonResponse(200, CatalogDocument(*engine->EventCatalog())));
    }
    return true;
  }
  if (path == kAttributionPath) {
    AttributionRoute(engine, r, std::move(respond));
    return true;
  }
  if (path == kModelsPath || path == std::string(kModelsPath) + "/") {
    ModelRoute(engine, r, "", std::move(respond));
    return true;
  }
  if (path.starts_with(std::string(kModelsPath) + "/")) {
    ModelRoute(engine, r, path.substr(kModelsPath.size() + 1), std::move(respond));
    return true;
  }
  if (path == kQueryPrefix || path == std::string(kQueryPrefix) + "/") {
    respond(UnknownKind(""));
    return true;
  }
  if (!path.starts_with(std::string(kQueryPrefix) + "/")) return false;
  QueryRoute(engine, r, path.substr(kQueryPrefix.size() + 1), std::move(respond));
  return true;
}

}  // namespace quanyu::server
