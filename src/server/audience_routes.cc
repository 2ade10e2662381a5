// Tags, computed traits and RFM operations, and the HTTP routes of
// audience_api.h.
#include <cmath>

#include "audience/computed_traits.h"
#include "audience/language.h"
#include "audience/rfm.h"
#include "collect/internal/url.h"
#include "server/audience_api.h"
#include "server/profile_api.h"

namespace quanyu::server {
namespace {

audience::Audiences& A(Engine& e) { return e.audiences(); }

Json TagJson(const audience::TagRecord& t) {
  Json j{{"category", t.category}, {"name", t.name}, {"description", t.description}};
  if (t.is_list) {
    j["identifiers"] = t.identifiers;
  } else {
    j["definition"] = audience::PrintText(t.rule);
    j["tree"] = audience::PrintJson(t.rule);
  }
  return j;
}

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

HttpResponse Render(const Result<Json>& r, int ok_status = 200) {
  if (!r.ok()) return ErrorResponse(r.status());
  return JsonResponse(ok_status, Dump(*r));
}

HttpResponse RenderStatus(const Status& st) {
  if (!st.ok()) return ErrorResponse(st);
  HttpResponse r;
  r.status = 204;
  return r;
}

HttpResponse WrongMethod(const HttpRequest& r, std::string_view allowed) {
  return ErrorResponse(Status::NotFound("no API route for " + r.method + " " + r.path + " (use " +
                                        std::string(allowed) + ")"));
}

Result<Json> Body(const HttpRequest& r) {
  if (r.body.size() > (size_t{1} << 20)) {
    return Status::PayloadTooLarge("request body over 1 MiB");
  }
  Json j = Json::parse(r.body.empty() ? std::string("{}") : r.body, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("the request body is not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("the request body must be a JSON object");
  return j;
}

std::string Param(const HttpRequest& r, std::string_view name) {
  return collect::internal::QueryParam("?" + r.query, name);
}

// A decimal parameter in [min, max]; `fallback` when absent.
Result<uint64_t> ParseCount(const std::string& text, uint64_t fallback, uint64_t min, uint64_t max,
                            std::string_view name) {
  if (text.empty()) return fallback;
  const Status bad = Status::InvalidArgument(std::string(name) + " must be an integer in " +
                                             std::to_string(min) + ".." + std::to_string(max));
  if (text.size() > 20) return bad;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return bad;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (max - digit) / 10) return bad;  // v * 10 + digit would pass max (or overflow)
    v = v * 10 + digit;
  }
  if (v < min) return bad;
  return v;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const size_t p = s.find(sep);
    if (p != 0) out.emplace_back(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return out;
}

HttpResponse AudienceRoute(Engine& e, const HttpRequest& r, std::string_view rest) {
  const std::vector<std::string> parts = Split(rest, '/');
  const std::string& m = r.method;
  if (parts.empty()) {
    if (m == "GET") return JsonResponse(200, Dump(ListAudiences(e)));
    if (m != "POST") return WrongMethod(r, "GET or POST");
    auto body = Body(r);
    if (!body.ok()) return ErrorResponse(body.status());
    return Render(CreateAudience(e, *body), 201);
  }
  const std::string name = collect::internal::PercentDecode(parts[0], false);
  if (parts.size() == 1 && name == "preview") {
    if (m != "POST") return WrongMethod(r, "POST");
    auto body = Body(r);
    if (!body.ok()) return ErrorResponse(body.status());
    return Render(PreviewAudience(e, *body));
  }
  if (parts.size() == 1 && name == "refresh") {
    if (m != "POST") return WrongMethod(r, "POST");
    auto body = Body(r);
    if (!body.ok()) return ErrorResponse(body.status());
    const Json full = body->value("full", Json(false));
    if (!full.is_boolean()) return ErrorResponse(Status::InvalidArgument("full must be true or false"));
    return Render(RefreshAudiences(e, full.get<bool>()));
  }
  if (parts.size() == 1 && name == "changes") {
    if (m != "GET") return WrongMethod(r, "GET");
    auto after = ParseCount(Param(r, "after"), 0, 0, UINT64_MAX, "after");
    auto limit = ParseCount(Param(r, "limit"), 1000, 1, kMaxMembersPage, "limit");
    if (!after.ok()) return ErrorResponse(after.status());
    if (!limit.ok()) return ErrorResponse(limit.status());
    return Render(AudienceChanges(e, *after, *limit));
  }
  if (parts.size() == 2 && name == "history") {
    if (m != "GET") return WrongMethod(r, "GET");
    auto id = ParseOneId(parts[1]);
    if (!id.ok()) return ErrorResponse(id.status());
    return Render(MembershipHistory(e, *id));
  }
  if (parts.size() == 1) {
    if (m == "GET") return Render(AudienceDocument(e, name));
    if (m == "DELETE") return RenderStatus(DeleteAudience(e, name));
    if (m != "PUT") return WrongMethod(r, "GET, PUT or DELETE");
    auto body = Body(r);
    if (!body.ok()) return ErrorResponse(body.status());
    return Render(UpdateAudience(e, name, *body));
  }
  if (parts.size() == 2 && parts[1] == "members") {
    if (m != "GET") return WrongMethod(r, "GET");
    if (Param(r, "format") == "csv") {
      auto csv = MembersCsv(e, name, Split(Param(r, "traits"), ','));
      if (!csv.ok()) return ErrorResponse(csv.status());
      HttpResponse resp;
      resp.content_type = "text/csv; charset=utf-8";
      resp.body = std::move(*csv);
      return resp;
    }
    auto after = ParseCount(Param(r, "after"), 0, 0, UINT32_MAX, "after");
    auto limit = ParseCount(Param(r, "limit"), 1000, 1, kMaxMembersPage, "limit");
    if (!after.ok()) return ErrorResponse(after.status());
    if (!limit.ok()) return ErrorResponse(limit.status());
    return Render(AudienceMembers(e, name, static_cast<uint32_t>(*after), *limit));
  }
  if (parts.size() == 2 && parts[1] == "export") {
    if (m != "POST") return WrongMethod(r, "POST");
    auto body = Body(r);
    if (!body.ok()) return ErrorResponse(body.status());
    return Render(ExportAudience(e, name, *body));
  }
  return ErrorResponse(Status::NotFound("no API route for " + m + " " + r.path));
}

HttpResponse TagRoute(Engine& e, const HttpRequest& r, std::string_view rest) {
  const std::vector<std::string> parts = Split(rest, '/');
  if (parts.empty()) {
    if (r.method == "GET") return JsonResponse(200, Dump(ListTags(e)));
    if (r.method != "POST") return WrongMethod(r, "GET or POST");
    auto body = Body(r);
    if (!body.ok()) return ErrorResponse(body.status());
    return Render(PutTag(e, *body), 201);
  }
  if (parts.size() != 2) return ErrorResponse(Status::NotFound("no API route for " + r.method + " " + r.path + " (use /api/v1/tags/CATEGORY/TAG)"));
  const std::string cat = collect::internal::PercentDecode(parts[0], false);
  const std::string tag = collect::internal::PercentDecode(parts[1], false);
  if (r.method == "GET") return Render(TagMembers(e, cat, tag));
  if (r.method == "DELETE") return RenderStatus(DeleteTag(e, cat, tag));
  return WrongMethod(r, "GET or DELETE");
}

}  // namespace

Json ListTags(Engine& engine) {
  Json list = Json::array();
  for (const auto& t : A(engine).ListTags()) {
    Json j = TagJson(t);
    auto members = A(engine).TagMembers(t);
    j["count"] = members.ok() ? Json(members->cardinality()) : Json(nullptr);
    list.push_back(std::move(j));
  }
  return Json{{"tags", list}};
}

Result<Json> PutTag(Engine& engine, const Json& body) {
  audience::TagRecord t;
  for (auto [key, out] : {std::pair{"category", &t.category}, std::pair{"name", &t.name}}) {
    if (!body.contains(key) || !body[key].is_string()) {
      return Status::InvalidArgument(std::string("a tag needs a \"") + key + "\" (string)");
    }
    *out = body[key].get<std::string>();
  }
  if (body.contains("description")) {
    if (!body["description"].is_string()) return Status::InvalidArgument("description must be a string");
    t.description = body["description"].get<std::string>();
  }
  if (body.contains("identifiers")) {
    if (body.contains("definition") || body.contains("tree")) {
      return Status::InvalidArgument("a tag is a rule (definition or tree) or a list (identifiers), not both");
    }
    if (!body["identifiers"].is_array()) return Status::InvalidArgument("identifiers must be an array");
    t.is_list = true;
    privacy::PiiVault::Pending keep;  // the list holds tokens; the vault the plaintexts
    for (const auto& v : body["identifiers"]) {
      if (!v.is_string()) return Status::InvalidArgument("identifiers must be strings \"ns:value\"");
      auto id = engine.ParseIdentifier(v.get<std::string>(), &keep);
      if (!id.ok()) return id.status().WithContext("identifiers[" + std::to_string(t.identifiers.size()) + "]");
      t.identifiers.push_back(id->ToString());
    }
    RETURN_IF_ERROR(engine.KeepPii(&keep));
  } else {
    ASSIGN_OR_RETURN(t.rule, DefinitionOf(body));
  }
  ASSIGN_OR_RETURN(t, A(engine).PutTag(std::move(t)));
  return TagJson(t);
}

Result<Json> TagMembers(Engine& engine, const std::string& category, const std::string& name) {
  for (const auto& t : A(engine).ListTags()) {
    if (t.category != category || t.name != name) continue;
    ASSIGN_OR_RETURN(Roaring members, A(engine).TagMembers(t));
    Json ids = Json::array();
    for (uint32_t id : members) {
      if (ids.size() == kMaxMembersPage) break;
      ids.push_back(id);
    }
    Json j = TagJson(t);
    j["count"] = members.cardinality();
    j["members"] = ids;
    return j;
  }
  return Status::NotFound("no tag \"" + name + "\" in category \"" + category + "\"");
}

Status DeleteTag(Engine& engine, const std::string& category, const std::string& name) {
  return A(engine).DeleteTag(category, name);
}

Json ListComputedTraits(Engine& engine) {
  Json list = Json::array();
  for (const auto& s : A(engine).ListComputedTraits()) list.push_back(audience::ComputedTraitToJson(s));
  return Json{{"computed_traits", list}};
}

Result<Json> PutComputedTrait(Engine& engine, const Json& body) {
  ASSIGN_OR_RETURN(audience::ComputedTraitSpec spec, audience::ParseComputedTrait(body));
  ASSIGN_OR_RETURN(size_t persons, A(engine).PutComputedTrait(spec));
  Json j = audience::ComputedTraitToJson(spec);
  j["persons"] = persons;
  return j;
}

Status DeleteComputedTrait(Engine& engine, const std::string& name) {
  return A(engine).DeleteComputedTrait(name);
}

Result<Json> RunRfm(Engine& engine, const Json& body) {
  ASSIGN_OR_RETURN(audience::RfmOptions options,
                   audience::ParseRfmOptions(body, A(engine).NowMicros()));
  RETURN_IF_ERROR(A(engine).RunRfm(options).status());
  return A(engine).RfmSummary();
}

Result<Json> RfmSummary(Engine& engine) { return A(engine).RfmSummary(); }

std::optional<HttpResponse> HandleAudienceApi(Engine* engine, const HttpRequest& r) {
  std::string_view p = r.path;
  auto under = [&](std::string_view prefix, std::string_view* rest) {
    if (p == prefix) {
      *rest = "";
      return true;
    }
    if (p.size() > prefix.size() && p.starts_with(prefix) && p[prefix.size()] == '/') {
      *rest = p.substr(prefix.size() + 1);
      return true;
    }
    return false;
  };
  std::string_view rest;
  if (under("/api/v1/audiences", &rest)) return AudienceRoute(*engine, r, rest);
  if (under("/api/v1/tags", &rest)) return TagRoute(*engine, r, rest);
  if (under("/api/v1/computed-traits", &rest)) {
    if (rest.empty()) {
      if (r.method == "GET") return JsonResponse(200, Dump(ListComputedTraits(*engine)));
      if (r.method != "POST") return WrongMethod(r, "GET or POST");
      auto body = Body(r);
      if (!body.ok()) return ErrorResponse(body.status());
      return Render(PutComputedTrait(*engine, *body), 201);
    }
    if (r.method != "DELETE") return WrongMethod(r, "DELETE");
    return RenderStatus(DeleteComputedTrait(*engine, collect::internal::PercentDecode(rest, false)));
  }
  if (under("/api/v1/rfm", &rest) && rest.empty()) {
    if (r.method == "GET") return Render(RfmSummary(*engine));
    if (r.method != "POST") return WrongMethod(r, "GET or POST");
    auto body = Body(r);
    if (!body.ok()) return ErrorResponse(body.status());
    return Render(RunRfm(*engine, *body));
  }
  return std::nullopt;
}

}  // namespace quanyu::server
