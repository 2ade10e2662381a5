// quanyu audience | tag | computed-trait | rfm
//
// The audience operations of the admin API, offline: each command opens the
// data directory, runs the same function the HTTP route runs
// (server/audience_api.h) with the body that route would receive, and prints
// that function's JSON, indented. Flags are checked before the engine is
// opened, so a mistyped command fails fast.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>

#include "audience/language.h"
#include "cli/commands.h"
#include "engine/engine.h"
#include "server/audience_api.h"
#include "server/profile_api.h"

namespace quanyu::cli {
namespace {

using server::Json;

constexpr char kFooter[] =
    "Prints the JSON the admin API answers (docs/openapi.yaml, docs/audiences.md).\n"
    "Exit codes: 0 success; 1 bad input, not found, an I/O error, or the data directory\n"
    "in use by a running `quanyu serve` (use the /api/v1/audiences endpoints then).";

// Every flag of every command here; each command fills the ones it declares.
struct Flags {
  std::string data, config;
  std::string name, description, definition, tree, sample;
  bool description_given = false;
  std::string after, limit, format, traits, destination, out;
  bool full = false;
  std::string category, identifiers, spec, one_id;
  std::string analysis_time, window, order_event, monetary_property;
};

// The text a command prints, from the engine and the request body.
using Operation = std::function<Result<std::string>(Engine&, const Json& body)>;

std::string Pretty(const Json& j) {
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}
Result<std::string> Printed(const Result<Json>& answer) {
  if (!answer.ok()) return answer.status();
  return Pretty(*answer);
}
// A delete answers nothing (the API's 204).
Result<std::string> Nothing(const Status& status) {
  if (!status.ok()) return status;
  return std::string();
}

// Validates the flags' body, opens the engine, runs `op`, closes the engine
// (persisting what the operation saved) and prints the operation's text.
void Run(const Flags& f, const Result<Json>& body, const Operation& op) {
  if (!body.ok()) return Fail(body.status());
  auto config = LoadEffectiveConfig(f.config, f.data);
  if (!config.ok()) return Fail(config.status());
  auto engine = OpenDataDirectory(*config,
                                  "the /api/v1/audiences, /api/v1/tags, /api/v1/computed-traits "
                                  "and /api/v1/rfm endpoints");
  if (!engine.ok()) return Fail(engine.status());
  auto text = op(**engine, *body);
  // Personal data is tokenized at rest; the operator sees the plaintext.
  if (text.ok()) *text = (*engine)->RevealPii(*text);
  Status closed = (*engine)->Close();
  if (!text.ok()) return Fail(text.status());
  if (!closed.ok()) return Fail(closed);
  std::fputs(text->c_str(), stdout);
}

// {"definition": TEXT} or {"tree": JSON} from --definition / --tree.
Result<Json> DefinitionBody(const Flags& f) {
  if (f.definition.empty() == f.tree.empty()) {
    return Status::InvalidArgument(
        "give the audience as --definition TEXT (the segment language) or --tree JSON|@FILE "
        "(exactly one; docs/segment-language.md)");
  }
  if (!f.definition.empty()) return Json{{"definition", f.definition}};
  ASSIGN_OR_RETURN(Json tree, ReadJsonArgument("--tree", f.tree));
  return Json{{"tree", std::move(tree)}};
}

// A decimal integer in min..max, or `fallback` when `text` is empty.
Result<uint64_t> ParseCount(const std::string& flag, const std::string& text, uint64_t fallback,
                            uint64_t min, uint64_t max) {
  if (text.empty()) return fallback;
  uint64_t v = 0;
  bool ok = true;
  for (char c : text) {
    if (!ok || c < '0' || c > '9' || v > (max - (c - '0')) / 10) {
      ok = false;
      break;
    }
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!ok || v < min) {
    return Status::InvalidArgument(flag + " must be an integer in " + std::to_string(min) + ".." +
                                   std::to_string(max) + ", got \"" + text + "\"");
  }
  return v;
}

// "a,b,,c" -> ["a", "b", "c"].
std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// ---- Bodies of the commands that send one --------------------------------------

Result<Json> PreviewBody(const Flags& f) {
  ASSIGN_OR_RETURN(Json body, DefinitionBody(f));
  ASSIGN_OR_RETURN(uint64_t sample,
                   ParseCount("--sample", f.sample, server::kDefaultPreviewSample, 0, 1000));
  body["sample"] = sample;
  return body;
}

// Create: name and definition, description if given.
Result<Json> RecordBody(const Flags& f) {
  ASSIGN_OR_RETURN(Json body, DefinitionBody(f));
  body["name"] = f.name;
  if (f.description_given) body["description"] = f.description;
  return body;
}

// Update: --definition/--tree and --description each optional; what is not
// given keeps its saved value (the API's PUT replaces the whole record).
Result<Json> UpdateBody(const Flags& f) {
  if (f.definition.empty() && f.tree.empty() && !f.description_given) {
    return Status::InvalidArgument("nothing to update: give --definition, --tree or --description");
  }
  if (f.definition.empty() && f.tree.empty()) return Json::object();
  return DefinitionBody(f);
}

Result<std::string> UpdateOperation(Engine& e, const Flags& f, Json body) {
  ASSIGN_OR_RETURN(audience::AudienceRecord saved, e.audiences().Get(f.name));
  if (!body.contains("definition") && !body.contains("tree")) {
    body["definition"] = audience::PrintText(saved.definition);
  }
  body["description"] = f.description_given ? f.description : saved.description;
  return Printed(server::UpdateAudience(e, f.name, body));
}

Result<Json> MembersBody(const Flags& f) {
  if (f.format != "json" && f.format != "csv") {
    return Status::InvalidArgument("--format must be json or csv, got \"" + f.format + "\"");
  }
  if (f.format == "csv" && (!f.after.empty() || !f.limit.empty())) {
    return Status::InvalidArgument("--after and --limit page the JSON list; CSV has every member");
  }
  if (f.format == "json" && !f.traits.empty()) {
    return Status::InvalidArgument("--traits goes with --format csv");
  }
  ASSIGN_OR_RETURN(uint64_t after, ParseCount("--after", f.after, 0, 0, UINT32_MAX));
  ASSIGN_OR_RETURN(uint64_t limit,
                   ParseCount("--limit", f.limit, 1000, 1, server::kMaxMembersPage));
  return Json{{"after", after}, {"limit", limit}};
}

Result<std::string> MembersOperation(Engine& e, const Flags& f, const Json& body) {
  if (f.format == "csv") return server::MembersCsv(e, f.name, SplitList(f.traits));
  return Printed(server::AudienceMembers(e, f.name, body["after"].get<uint32_t>(),
                                         body["limit"].get<size_t>()));
}

Result<Json> ExportBody(const Flags& f) {
  if (f.out.empty()) return Status::InvalidArgument("--out DIR is required: the files go there");
  Json body{{"destination", f.destination}};
  if (!f.traits.empty()) {
    if (f.destination != "csv") {
      return Status::InvalidArgument("--traits goes with --destination csv");
    }
    body["traits"] = SplitList(f.traits);
  }
  return body;
}

// Writes every file of the export answer into --out and summarizes them.
Result<std::string> ExportOperation(Engine& e, const Flags& f, const Json& body) {
  ASSIGN_OR_RETURN(Json answer, server::ExportAudience(e, f.name, body));
  std::error_code ec;
  std::filesystem::create_directories(f.out, ec);
  if (ec) return Status::IOError("cannot create " + f.out + ": " + ec.message());
  std::string summary;
  for (const auto& [file, content_json] : answer["files"].items()) {
    if (file.empty() || file.find('/') != std::string::npos || file == "." || file == "..") {
      return Status::Internal("the export named a file \"" + file + "\" outside --out");
    }
    // The files leave Quanyu: plaintext (CSV cells as JSON text are not
    // escaped further).
    const std::string content = e.RevealPii(content_json.get<std::string>(), false, false);
    const std::string path = (std::filesystem::path(f.out) / file).string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) return Status::IOError("cannot write " + path);
    const auto lines = std::count(content.begin(), content.end(), '\n');
    summary += path + "\t" + std::to_string(content.size()) + " bytes\t" + std::to_string(lines) +
               " lines\n";
  }
  summary += "destination " + answer["destination"].get<std::string>() + ": members " +
             answer["members"].dump() + ", exported " + answer["exported"].dump() +
             ", excluded_by_consent " + answer["excluded_by_consent"].dump() + "\n";
  return summary;
}

Result<Json> ChangesBody(const Flags& f) {
  ASSIGN_OR_RETURN(uint64_t after, ParseCount("--after", f.after, 0, 0, UINT64_MAX));
  ASSIGN_OR_RETURN(uint64_t limit,
                   ParseCount("--limit", f.limit, 1000, 1, server::kMaxMembersPage));
  return Json{{"after", after}, {"limit", limit}};
}

Result<Json> TagBody(const Flags& f) {
  Json body;
  if (f.identifiers.empty()) {
    ASSIGN_OR_RETURN(body, DefinitionBody(f));
  } else if (!f.definition.empty() || !f.tree.empty()) {
    return Status::InvalidArgument(
        "a tag is a rule (--definition or --tree) or a list (--identifiers), not both");
  } else {
    body["identifiers"] = SplitList(f.identifiers);
  }
  body["category"] = f.category;
  body["name"] = f.name;
  if (f.description_given) body["description"] = f.description;
  return body;
}

// The body of POST /api/v1/rfm: only the options given (docs/rfm.md).
Json RfmBody(const Flags& f) {
  Json body = Json::object();
  if (!f.analysis_time.empty()) body["analysis_time"] = f.analysis_time;
  if (!f.window.empty()) body["window"] = f.window;
  if (!f.order_event.empty()) body["order_event"] = f.order_event;
  if (!f.monetary_property.empty()) body["monetary_property"] = f.monetary_property;
  return body;
}

// ---- Registration ------------------------------------------------------------------

CLI::App* AddCommand(CLI::App* parent, const std::string& name, const std::string& description,
                     Flags* f) {
  auto* cmd = parent->add_subcommand(name, description);
  cmd->add_option("--data", f->data, "Data directory (or QUANYU_DATA)");
  cmd->add_option("--config", f->config, "quanyu.toml")->check(CLI::ExistingFile);
  cmd->footer(kFooter);
  return cmd;
}

void AddDefinitionOptions(CLI::App* cmd, Flags* f) {
  cmd->add_option("--definition", f->definition,
                  "The segment language, e.g. 'did(\"Order Completed\", count >= 2)'");
  cmd->add_option("--tree", f->tree, "The JSON tree, @FILE, or @- for standard input");
}

// --description, noting whether it was given (an empty one clears it).
void AddDescription(CLI::App* cmd, Flags* f) {
  cmd->add_option("--description", f->description, "What it is for")->each([f](const std::string&) {
    f->description_given = true;
  });
}

// The command `name` under `parent`, running `op` on the body `make_body` builds.
void Add(CLI::App* parent, const std::string& name, const std::string& description,
         const std::function<void(CLI::App*, Flags*)>& options,
         const std::function<Result<Json>(const Flags&)>& make_body,
         const std::function<Result<std::string>(Engine&, const Flags&, const Json&)>& op) {
  auto f = std::make_shared<Flags>();
  auto* cmd = AddCommand(parent, name, description, f.get());
  if (options) options(cmd, f.get());
  cmd->callback([f, make_body, op] {
    Run(*f, make_body ? make_body(*f) : Result<Json>(Json::object()),
        [&](Engine& e, const Json& body) { return op(e, *f, body); });
  });
}

void AddName(CLI::App* cmd, Flags* f) { cmd->add_option("name", f->name, "NAME")->required(); }

// A top-level command whose subcommands are the operations.
CLI::App* AddGroup(CLI::App& app, const std::string& name, const std::string& description) {
  auto* group = app.add_subcommand(name, description);
  group->require_subcommand(1);
  group->footer(kFooter);
  return group;
}

void RegisterAudienceCommand(CLI::App& app) {
  auto* a = AddGroup(app, "audience", "Define, preview, list and export audiences");
  auto definition = [](CLI::App* c, Flags* f) {
    AddDefinitionOptions(c, f);
    c->add_option("--sample", f->sample, "One-IDs to list, 0..1000 (default 10)");
  };
  Add(a, "preview", "Count and sample the persons a definition selects now", definition,
      PreviewBody, [](Engine& e, const Flags&, const Json& b) {
        return Printed(server::PreviewAudience(e, b));
      });
  auto record = [](CLI::App* c, Flags* f) {
    AddName(c, f);
    AddDefinitionOptions(c, f);
    AddDescription(c, f);
  };
  Add(a, "create", "Save an audience", record, RecordBody,
      [](Engine& e, const Flags&, const Json& b) { return Printed(server::CreateAudience(e, b)); });
  Add(a, "update", "Change an audience's definition or description", record, UpdateBody,
      [](Engine& e, const Flags& f, const Json& b) { return UpdateOperation(e, f, b); });
  Add(a, "show", "An audience with its member count now", AddName, nullptr,
      [](Engine& e, const Flags& f, const Json&) {
        return Printed(server::AudienceDocument(e, f.name));
      });
  Add(a, "list", "Every saved audience", nullptr, nullptr,
      [](Engine& e, const Flags&, const Json&) -> Result<std::string> {
        return Pretty(server::ListAudiences(e));
      });
  Add(a, "delete", "Delete an audience (prints nothing)", AddName, nullptr,
      [](Engine& e, const Flags& f, const Json&) {
        return Nothing(server::DeleteAudience(e, f.name));
      });
  Add(
      a, "members", "A page of the members (ascending one_id), or all of them as CSV",
      [](CLI::App* c, Flags* f) {
        AddName(c, f);
        c->add_option("--after", f->after, "List one_ids above this one (the last next_after)");
        c->add_option("--limit", f->limit, "Members per page, 1..100000 (default 1000)");
        c->add_option("--format", f->format, "json (default) or csv")->default_val("json");
        c->add_option("--traits", f->traits, "With --format csv: trait columns, e.g. city,gender");
      },
      MembersBody, MembersOperation);
  Add(
      a, "export", "Write the member files for a destination into --out",
      [](CLI::App* c, Flags* f) {
        AddName(c, f);
        c->add_option("--destination", f->destination,
                      "csv, tencent_ads, ocean_engine, meta or google")
            ->required();
        c->add_option("--traits", f->traits, "With --destination csv: trait columns");
        c->add_option("--out", f->out, "Directory for the files (created)")->required();
      },
      ExportBody, ExportOperation);
  Add(
      a, "refresh", "Re-evaluate new or changed audiences (all after a bulk load) now, recording entered / exited",
      [](CLI::App* c, Flags* f) {
        c->add_flag("--full", f->full, "Every audience and tag, after recomputing traits");
      },
      nullptr,
      [](Engine& e, const Flags& f, const Json&) {
        return Printed(server::RefreshAudiences(e, f.full));
      });
  Add(
      a, "changes", "audience_entered / audience_exited records, oldest first",
      [](CLI::App* c, Flags* f) {
        c->add_option("--after", f->after, "Records with seq above this (the last next_after)");
        c->add_option("--limit", f->limit, "Records per page, 1..100000 (default 1000)");
      },
      ChangesBody,
      [](Engine& e, const Flags&, const Json& b) {
        return Printed(
            server::AudienceChanges(e, b["after"].get<uint64_t>(), b["limit"].get<size_t>()));
      });
  Add(
      a, "history", "One person's audiences and membership changes",
      [](CLI::App* c, Flags* f) { c->add_option("one_id", f->one_id, "ONE_ID")->required(); },
      nullptr,
      [](Engine& e, const Flags& f, const Json&) -> Result<std::string> {
        ASSIGN_OR_RETURN(uint32_t one_id, server::ParseOneId(f.one_id));
        return Printed(server::MembershipHistory(e, one_id));
      });
}

void RegisterTagCommand(CLI::App& app) {
  auto* t = AddGroup(app, "tag", "The tag taxonomy (用户标签): category → tag → rule or list");
  Add(t, "list", "Every tag with its member count", nullptr, nullptr,
      [](Engine& e, const Flags&, const Json&) -> Result<std::string> {
        return Pretty(server::ListTags(e));
      });
  Add(
      t, "put", "Create or replace a tag: a rule or a list of identifiers",
      [](CLI::App* c, Flags* f) {
        c->add_option("--category", f->category, "Category")->required();
        c->add_option("--name", f->name, "Tag name")->required();
        AddDefinitionOptions(c, f);
        c->add_option("--identifiers", f->identifiers,
                      "An uploaded list instead of a rule: ns:value,... e.g. phone:+8613800138000");
        AddDescription(c, f);
      },
      TagBody,
      [](Engine& e, const Flags&, const Json& b) { return Printed(server::PutTag(e, b)); });
  auto category_and_name = [](CLI::App* c, Flags* f) {
    c->add_option("category", f->category, "CATEGORY")->required();
    c->add_option("name", f->name, "TAG")->required();
  };
  Add(t, "members", "The persons a tag selects now", category_and_name, nullptr,
      [](Engine& e, const Flags& f, const Json&) {
        return Printed(server::TagMembers(e, f.category, f.name));
      });
  Add(t, "delete", "Delete a tag (prints nothing)", category_and_name, nullptr,
      [](Engine& e, const Flags& f, const Json&) {
        return Nothing(server::DeleteTag(e, f.category, f.name));
      });
}

void RegisterComputedTraitCommand(CLI::App& app) {
  auto* c = AddGroup(app, "computed-trait", "Computed traits (docs/computed-traits.md)");
  Add(c, "list", "Every computed trait definition", nullptr, nullptr,
      [](Engine& e, const Flags&, const Json&) -> Result<std::string> {
        return Pretty(server::ListComputedTraits(e));
      });
  Add(
      c, "put", "Define (or redefine) a computed trait and compute it now",
      [](CLI::App* cmd, Flags* f) {
        cmd->add_option("--spec", f->spec, "The definition JSON, @FILE, or @- for standard input")
            ->required();
      },
      [](const Flags& f) { return ReadJsonArgument("--spec", f.spec); },
      [](Engine& e, const Flags&, const Json& b) {
        return Printed(server::PutComputedTrait(e, b));
      });
  Add(c, "delete", "Delete a computed trait (prints nothing)", AddName, nullptr,
      [](Engine& e, const Flags& f, const Json&) {
        return Nothing(server::DeleteComputedTrait(e, f.name));
      });
}

void RegisterRfmCommand(CLI::App& app) {
  auto* r = AddGroup(app, "rfm", "RFM scores and segments (docs/rfm.md)");
  Add(
      r, "run", "Score every customer and store the scores as profile traits",
      [](CLI::App* c, Flags* f) {
        c->add_option("--analysis-time", f->analysis_time, "The analysis \"now\" (default: now)");
        c->add_option("--window", f->window, "Orders in this window before it (default 365d)");
        c->add_option("--order-event", f->order_event, "Default \"Order Completed\"");
        c->add_option("--monetary-property", f->monetary_property, "Default revenue");
      },
      [](const Flags& f) -> Result<Json> { return RfmBody(f); },
      [](Engine& e, const Flags&, const Json& b) { return Printed(server::RunRfm(e, b)); });
  Add(r, "show", "The last run: its options and customers per segment", nullptr, nullptr,
      [](Engine& e, const Flags&, const Json&) { return Printed(server::RfmSummary(e)); });
}

}  // namespace

void RegisterAudience(CLI::App& app) {
  RegisterAudienceCommand(app);
  RegisterTagCommand(app);
  RegisterComputedTraitCommand(app);
  RegisterRfmCommand(app);
}

}  // namespace quanyu::cli
