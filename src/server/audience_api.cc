// The audience operations (audience_api.h); the HTTP routes are in
// audience_routes.cc.
#include "server/audience_api.h"

#include <chrono>

#include "audience/computed_traits.h"
#include "audience/export_gate.h"
#include "audience/export_hash.h"
#include "audience/language.h"
#include "audience/rfm.h"
#include "common/time_util.h"

namespace quanyu::server {
namespace {

audience::Audiences& A(Engine& e) { return e.audiences(); }

Json RecordJson(const audience::AudienceRecord& r) {
  return Json{{"name", r.name},
              {"description", r.description},
              {"definition", audience::PrintText(r.definition)},
              {"tree", audience::PrintJson(r.definition)},
              {"created", FormatTimestamp(r.created_us)},
              {"updated", FormatTimestamp(r.updated_us)}};
}

Result<audience::AudienceRecord> RecordOf(const std::string& name, const Json& body) {
  audience::AudienceRecord r;
  r.name = name;
  if (body.contains("description")) {
    if (!body["description"].is_string())
      return Status::InvalidArgument("description must be a string");
    r.description = body["description"].get<std::string>();
  }
  ASSIGN_OR_RETURN(r.definition, DefinitionOf(body));
  return r;
}

Json ChangeJson(const audience::MembershipChange& c) {
  return Json{{"seq", c.seq},
              {"one_id", c.one_id},
              {"audience", c.audience},
              {"type", c.entered ? "audience_entered" : "audience_exited"},
              {"time", FormatTimestamp(c.time_us)}};
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// The value of a trait as a CSV cell: strings bare, everything else as JSON.
std::string Cell(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::vector<Identifier> IdentifiersOf(const Engine& engine, uint32_t one_id) {
  std::vector<Identifier> out;
  auto d = engine.identity().Describe(one_id);
  if (!d) return out;
  for (const std::string& text : d->identifiers) {
    // Ad platforms match on the hashes of the plaintext values.
    auto id = engine.ParseIdentifier(text);
    if (!id.ok()) continue;
    auto plain = engine.RevealIdentifier(std::move(*id));
    if (plain.ok()) out.push_back(std::move(*plain));
  }
  return out;
}

}  // namespace

Result<audience::Node> DefinitionOf(const Json& body) {
  const bool text = body.contains("definition"), tree = body.contains("tree");
  if (text == tree) {
    return Status::InvalidArgument(
        "give the audience as {\"definition\": \"trait.city = \\\"上海\\\" AND ...\"} or as "
        "{\"tree\": {...}} (exactly one; docs/segment-language.md)");
  }
  if (text) {
    if (!body["definition"].is_string())
      return Status::InvalidArgument("definition must be a string");
    return audience::ParseText(body["definition"].get<std::string>());
  }
  return audience::ParseJson(body["tree"]);
}

Result<Json> PreviewAudience(Engine& engine, const Json& body) {
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(audience::Node def, DefinitionOf(body));
  size_t sample = kDefaultPreviewSample;
  if (body.contains("sample")) {
    const Json& n = body["sample"];
    if (!n.is_number_integer() || n.get<int64_t>() < 0 || n.get<int64_t>() > 1000) {
      return Status::InvalidArgument("sample must be an integer in 0..1000");
    }
    sample = body["sample"].get<size_t>();
  }
  ASSIGN_OR_RETURN(Roaring members, A(engine).Evaluate(def));
  Json ids = Json::array();
  for (auto it = members.begin(); it != members.end() && ids.size() < sample; ++it)
    ids.push_back(*it);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return Json{{"count", members.cardinality()},
              {"sample", ids},
              {"definition", audience::PrintText(def)},
              {"tree", audience::PrintJson(def)},
              {"elapsed_ms", std::round(ms * 100) / 100}};
}

Result<Json> CreateAudience(Engine& engine, const Json& body) {
  if (!body.contains("name") || !body["name"].is_string()) {
    return Status::InvalidArgument("an audience needs a \"name\" (string)");
  }
  ASSIGN_OR_RETURN(audience::AudienceRecord r, RecordOf(body["name"].get<std::string>(), body));
  ASSIGN_OR_RETURN(r, A(engine).Create(std::move(r)));
  return RecordJson(r);
}

Result<Json> UpdateAudience(Engine& engine, const std::string& name, const Json& body) {
  ASSIGN_OR_RETURN(audience::AudienceRecord r, RecordOf(name, body));
  ASSIGN_OR_RETURN(r, A(engine).Update(std::move(r)));
  return RecordJson(r);
}

Result<Json> AudienceDocument(Engine& engine, const std::string& name) {
  ASSIGN_OR_RETURN(audience::AudienceRecord r, A(engine).Get(name));
  Json j = RecordJson(r);
  ASSIGN_OR_RETURN(Roaring members, A(engine).Evaluate(r.definition));
  j["count"] = members.cardinality();
  return j;
}

Json ListAudiences(Engine& engine) {
  Json list = Json::array();
  for (const auto& r : A(engine).List()) list.push_back(RecordJson(r));
  return Json{{"audiences", list}};
}

Status DeleteAudience(Engine& engine, const std::string& name) { return A(engine).Delete(name); }

Result<Json> AudienceMembers(Engine& engine, const std::string& name, uint32_t after,
                             size_t limit) {
  if (limit == 0) return Status::InvalidArgument("limit must be at least 1");
  ASSIGN_OR_RETURN(Roaring members, A(engine).Members(name));
  Json ids = Json::array();
  Json next = nullptr;
  for (auto it = members.begin(); it != members.end(); ++it) {
    if (*it <= after) continue;
    if (ids.size() == limit) {
      next = ids.back();
      break;
    }
    ids.push_back(*it);
  }
  return Json{{"count", members.cardinality()}, {"members", ids}, {"next_after", next}};
}

// The consent ledger's decision for one person and use, counted under
// stage "export".
audience::UseCheck ExportCheck(const Engine& engine) {
  return
      [&engine](uint32_t id, const privacy::Use& use) { return engine.MayUse(id, use, "export"); };
}

Result<std::string> MembersCsv(Engine& engine, const std::string& name,
                               const std::vector<std::string>& traits) {
  ASSIGN_OR_RETURN(Roaring members, A(engine).Members(name));
  Roaring allowed = audience::ExportablePersons(audience::ExportTarget::kMembersCsv, members,
                                                ExportCheck(engine));
  // One pass over the profiles per trait, kept for the allowed members only.
  std::vector<std::unordered_map<uint32_t, std::string>> cells(traits.size());
  for (size_t t = 0; t < traits.size(); ++t) {
    RETURN_IF_ERROR(A(engine).ForEachTrait(traits[t], [&](uint32_t id, const Json& v) {
      // Revealed before CSV quoting: an address may hold a comma.
      if (allowed.contains(id)) cells[t][id] = engine.RevealPii(Cell(v), false, false);
    }));
  }
  std::string out = "one_id";
  for (const auto& t : traits) out += "," + CsvField(t);
  out += "\n";
  for (uint32_t id : allowed) {
    out += std::to_string(id);
    for (size_t t = 0; t < traits.size(); ++t) {
      auto it = cells[t].find(id);
      out += ",";
      if (it != cells[t].end()) out += CsvField(it->second);
    }
    out += "\n";
  }
  return out;
}

Result<Json> ExportAudience(Engine& engine, const std::string& name, const Json& body) {
  if (!body.contains("destination") || !body["destination"].is_string()) {
    return Status::InvalidArgument(
        "give a \"destination\": csv, tencent_ads, ocean_engine, meta or google");
  }
  const std::string dest = body["destination"].get<std::string>();
  ASSIGN_OR_RETURN(audience::ExportTarget target, audience::ExportTargetNamed(dest));
  ASSIGN_OR_RETURN(Roaring members, A(engine).Members(name));
  Roaring allowed = audience::ExportablePersons(target, members, ExportCheck(engine));
  Json files = Json::object();
  if (target == audience::ExportTarget::kMembersCsv) {
    std::vector<std::string> traits;
    if (body.contains("traits")) {
      if (!body["traits"].is_array())
        return Status::InvalidArgument("traits must be an array of names");
      for (const auto& t : body["traits"]) {
        if (!t.is_string()) return Status::InvalidArgument("traits must be an array of names");
        traits.push_back(t.get<std::string>());
      }
    }
    ASSIGN_OR_RETURN(std::string csv, MembersCsv(engine, name, traits));
    files["members.csv"] = csv;
  } else {
    ASSIGN_OR_RETURN(audience::AdDestination ad, audience::AdDestinationNamed(dest));
    std::vector<std::vector<Identifier>> persons;
    for (uint32_t id : allowed) persons.push_back(IdentifiersOf(engine, id));
    for (auto& [file, content] : audience::BuildExportFiles(ad, persons)) files[file] = content;
  }
  return Json{{"destination", dest},
              {"members", members.cardinality()},
              {"exported", allowed.cardinality()},
              {"excluded_by_consent", members.cardinality() - allowed.cardinality()},
              {"files", files}};
}

Result<Json> AudienceChanges(Engine& engine, uint64_t after, size_t limit) {
  ASSIGN_OR_RETURN(auto changes, A(engine).Changes(after, limit));
  Json list = Json::array();
  for (const auto& c : changes) list.push_back(ChangeJson(c));
  Json next = changes.empty() ? Json(after) : Json(changes.back().seq);
  return Json{{"changes", list}, {"next_after", next}};
}

Result<Json> MembershipHistory(Engine& engine, uint32_t one_id) {
  ASSIGN_OR_RETURN(uint32_t live, engine.ResolvePerson(one_id));
  ASSIGN_OR_RETURN(auto changes, A(engine).History(live));
  Json list = Json::array();
  for (const auto& c : changes) list.push_back(ChangeJson(c));
  return Json{{"one_id", live}, {"audiences", A(engine).MembershipsOf(live)}, {"changes", list}};
}

Result<Json> RefreshAudiences(Engine& engine, bool full) {
  if (full) RETURN_IF_ERROR(A(engine).RecomputeTraits());
  ASSIGN_OR_RETURN(size_t n, A(engine).Refresh(full));
  return Json{{"changes", n}};
}

}  // namespace quanyu::server
