// quanyu attribution --paths FILE [--models LIST|all] [--format table|json|csv]
// quanyu attribution --data DIR --from DATE --to DATE [--body JSON|@FILE|@-]
//                    [--granularity ..] [--export-paths FILE] [...]
//
// Multi-touch attribution (docs/attribution.md) on conversion paths in
// ChannelAttribution's aggregated format, or on the store's stitched
// persons with imported spend joined (the request of POST
// /api/v1/attribution): each model's conversions and value per channel, side
// by side.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "attribution/models.h"
#include "attribution/paths.h"
#include "attribution/report.h"
#include "attribution/request.h"
#include "cli/commands.h"
#include "engine/engine.h"

namespace quanyu::cli {
namespace {

struct AttributionFlags {
  std::string paths, models = "all", format;
  double first_weight = 0.4, last_weight = 0.4, half_life_days = 7;
  std::string direct = "direct";
  bool collapse = false, no_nulls = false;
  // On the store.
  std::string data, config, body, from, to, granularity, lookback, conversions, value_property,
      export_paths;
  bool first_only = false;
  // The options given on the command line (they override --body).
  std::vector<CLI::Option*> given;
  bool Given(const std::string& name) const {
    for (const auto* o : given) {
      if (o->check_name(name) && o->count() > 0) return true;
    }
    return false;
  }
};

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// A value for the summary line: 1220379.56, not 1.22038e+06.
std::string Money(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// The request of POST /api/v1/attribution: --body, then the flags given.
Result<nlohmann::json> StoreRequestBody(const AttributionFlags& f) {
  nlohmann::json body = nlohmann::json::object();
  if (!f.body.empty()) {
    ASSIGN_OR_RETURN(body, ReadJsonArgument("--body", f.body));
    if (!body.is_object()) return Status::InvalidArgument("--body must be a JSON object");
  }
  if (f.Given("--from")) body["from"] = f.from;
  if (f.Given("--to")) body["to"] = f.to;
  if (f.Given("--granularity")) body["granularity"] = f.granularity;
  if (f.Given("--lookback")) body["lookback"] = f.lookback;
  if (f.Given("--conversions")) body["conversions"] = SplitList(f.conversions);
  if (f.Given("--value-property")) body["value_property"] = f.value_property;
  if (f.Given("--first-only")) body["first_conversion_only"] = f.first_only;
  if (f.Given("--collapse")) body["collapse"] = f.collapse;
  if (f.Given("--no-nulls")) body["markov_nulls"] = !f.no_nulls;
  if (f.Given("--models")) {
    body["models"] =
        f.models == "all" ? nlohmann::json("all") : nlohmann::json(SplitList(f.models));
  }
  if (f.Given("--first-weight")) body["position"]["first"] = f.first_weight;
  if (f.Given("--last-weight")) body["position"]["last"] = f.last_weight;
  if (f.Given("--half-life")) body["half_life"] = f.half_life_days * 86400;  // seconds
  if (f.Given("--direct")) body["direct_channels"] = SplitList(f.direct);
  return body;
}

void RunOnStore(const AttributionFlags& f, const std::string& format) {
  auto body = StoreRequestBody(f);
  if (!body.ok()) return Fail(body.status());
  auto config = LoadEffectiveConfig(f.config, f.data);
  if (!config.ok()) return Fail(config.status());
  auto engine = OpenDataDirectory(*config, "POST /api/v1/attribution");
  if (!engine.ok()) return Fail(engine.status());
  auto request = attribution::ParseAttributionRequest(*body, (*engine)->query_options().timezone);
  Result<attribution::AttributionAnswer> answer =
      request.ok() ? (*engine)->Attribution(*request)
                   : Result<attribution::AttributionAnswer>(request.status());
  Status closed = (*engine)->Close();
  if (!answer.ok()) return Fail(answer.status());
  if (!closed.ok()) return Fail(closed);
  if (!f.export_paths.empty()) {
    std::ofstream out(f.export_paths, std::ios::binary | std::ios::trunc);
    out << attribution::WritePathsCsv(answer->paths);
    if (!out.flush()) return Fail(Status::IOError("cannot write " + f.export_paths));
  }
  const attribution::SpendMap* spend = answer->spend ? &*answer->spend : nullptr;
  if (format == "json") {
    std::cout << attribution::AnswerJson(*request, *answer).dump(2) << "\n";
  } else if (format == "csv") {
    std::cout << attribution::ResultsCsv(answer->results, spend);
  } else {
    const attribution::PathSet& set = answer->paths;
    std::cout << set.paths.size() << " distinct paths, " << set.total_conversions()
              << " conversions, value " << Money(set.total_value()) << ", " << set.total_nulls()
              << " without a conversion; " << set.untouched_conversions
              << " conversions had no touch in their lookback\n";
    for (const auto& [model, why] : answer->skipped)
      std::cout << "skipped " << model << ": " << why << "\n";
    std::cout << "\n" << attribution::ResultsTable(set, answer->results, spend);
  }
}

void RunAttribution(const AttributionFlags& f) {
  std::string format = f.format.empty() ? (isatty(STDOUT_FILENO) ? "table" : "json") : f.format;
  if (format != "table" && format != "json" && format != "csv") {
    return Fail(
        Status::InvalidArgument("--format must be table, json or csv, got \"" + format + "\""));
  }
  if (f.paths.empty() == f.data.empty()) {
    return Fail(Status::InvalidArgument(
        "give either --paths FILE (a ChannelAttribution file) or --data DIR (the store)"));
  }
  if (!f.data.empty()) return RunOnStore(f, format);
  for (const char* store_only :
       {"--body", "--from", "--to", "--granularity", "--lookback", "--conversions",
        "--value-property", "--first-only", "--export-paths", "--config"}) {
    if (f.Given(store_only)) {
      return Fail(
          Status::InvalidArgument(std::string(store_only) + " applies to --data, not --paths"));
    }
  }
  std::ifstream in(f.paths, std::ios::binary);
  if (!in) return Fail(Status::IOError("cannot read " + f.paths));
  std::stringstream text;
  text << in.rdbuf();
  auto read = attribution::ReadPathsCsv(text.str());
  if (!read.ok()) return Fail(Status::InvalidArgument(f.paths + ": " + read.status().message()));
  attribution::PathSet set = f.collapse ? attribution::CollapseRepeats(*read) : std::move(*read);

  attribution::ModelOptions o;
  o.first_weight = f.first_weight;
  o.last_weight = f.last_weight;
  o.half_life_days = f.half_life_days;
  o.direct_channels = SplitList(f.direct);
  o.use_nulls = !f.no_nulls;
  std::vector<std::string> models;
  if (f.models == "all") {
    for (const auto& m : attribution::ModelNames()) {
      if (m != "time_decay") models.push_back(m);  // a file has no touch times
    }
  } else {
    models = SplitList(f.models);
  }
  if (models.empty()) return Fail(Status::InvalidArgument("--models names no model"));
  std::vector<attribution::ModelResult> results;
  for (const auto& m : models) {
    auto r = attribution::RunModel(m, set, o);
    if (!r.ok()) return Fail(r.status());
    results.push_back(std::move(*r));
  }
  if (format == "json") {
    std::cout << attribution::ResultsJson(set, results).dump(2) << "\n";
  } else if (format == "csv") {
    std::cout << attribution::ResultsCsv(results);
  } else {
    std::cout << set.paths.size() << " paths, " << set.total_conversions() << " conversions, value "
              << Money(set.total_value()) << ", " << set.total_nulls() << " without a conversion\n\n"
              << attribution::ResultsTable(set, results);
  }
}

}  // namespace

void RegisterAttribution(CLI::App& app) {
  auto f = std::make_shared<AttributionFlags>();
  std::string models;
  for (const auto& m : attribution::ModelNames()) models += (models.empty() ? "" : ",") + m;
  auto* cmd = app.add_subcommand(
      "attribution",
      "Multi-touch attribution on conversion paths (docs/attribution.md): every model's credit per "
      "channel");
  auto& g = f->given;
  cmd->add_option("--paths", f->paths,
                  "Paths in ChannelAttribution's format: path;total_conversions;"
                  "total_conversion_value;total_null, channels joined by \" > \"");
  cmd->add_option("--data", f->data,
                  "Or attribute on the store in this data directory (or QUANYU_DATA "
                  "with --config)");
  g.push_back(cmd->add_option("--config", f->config, "quanyu.toml (with --data)"));
  g.push_back(
      cmd->add_option("--body", f->body,
                      "With --data: the request of POST /api/v1/attribution (JSON, @FILE or @-); "
                      "the flags below override its fields"));
  g.push_back(
      cmd->add_option("--from", f->from, "With --data: conversions from (YYYY-MM-DD or RFC 3339)"));
  g.push_back(
      cmd->add_option("--to", f->to, "With --data: conversions before (YYYY-MM-DD or RFC 3339)"));
  g.push_back(cmd->add_option("--granularity", f->granularity,
                              "With --data: channel (default), source_medium or campaign"));
  g.push_back(cmd->add_option("--lookback", f->lookback,
                              "With --data: touches this long before a "
                              "conversion count (default 30d)"));
  g.push_back(
      cmd->add_option("--conversions", f->conversions,
                      "With --data: comma-separated conversion events (default Order Completed)"));
  g.push_back(cmd->add_option("--value-property", f->value_property,
                              "With --data: the conversion value property (default revenue)"));
  g.push_back(cmd->add_flag("--first-only", f->first_only,
                            "With --data: only each person's first conversion"));
  g.push_back(
      cmd->add_option("--export-paths", f->export_paths,
                      "With --data: also write the paths to this file in ChannelAttribution's "
                      "format"));
  g.push_back(cmd->add_option("--models", f->models,
                              "Comma-separated models, or all (default; time_decay "
                              "needs touch times, which a file lacks): " +
                                  models));
  cmd->add_option("--format", f->format,
                  "table (default on a terminal), json (default otherwise: per model, per channel, "
                  "conversions and value) or csv");
  g.push_back(cmd->add_option("--first-weight", f->first_weight,
                              "position: the first touch's share (default 0.4)"));
  g.push_back(cmd->add_option("--last-weight", f->last_weight,
                              "position: the last touch's share (default 0.4)"));
  g.push_back(cmd->add_option("--half-life", f->half_life_days,
                              "time_decay: half-life in days (default 7)"));
  g.push_back(cmd->add_option(
      "--direct", f->direct,
      "last_non_direct: comma-separated channels counted as direct (default direct)"));
  g.push_back(
      cmd->add_flag("--collapse", f->collapse, "Collapse consecutive repeats of a channel first"));
  g.push_back(cmd->add_flag("--no-nulls", f->no_nulls,
                            "Markov: build the chain from converting paths only"));
  cmd->footer(
      "With --data, the table and CSV add CPA and ROAS by model for channels (or campaigns) "
      "with imported spend.\nExit codes: 0 success; 1 an unreadable or malformed file (the "
      "line and field are named), a bad request, an unknown model or bad options.");
  cmd->callback([f] { RunAttribution(*f); });
}

}  // namespace quanyu::cli
