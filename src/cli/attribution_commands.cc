// quanyu attribution --paths FILE [--models LIST|all] [--format table|json|csv]
//
// Multi-touch attribution on conversion paths in ChannelAttribution's
// aggregated format (docs/attribution.md): each model's conversions and
// value per channel, side by side.
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "attribution/models.h"
#include "attribution/paths.h"
#include "attribution/report.h"
#include "cli/commands.h"

namespace quanyu::cli {
namespace {

struct AttributionFlags {
  std::string paths, models = "all", format;
  double first_weight = 0.4, last_weight = 0.4, half_life_days = 7;
  std::string direct = "direct";
  bool collapse = false, no_nulls = false;
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

void RunAttribution(const AttributionFlags& f) {
  std::string format = f.format.empty() ? (isatty(STDOUT_FILENO) ? "table" : "json") : f.format;
  if (format != "table" && format != "json" && format != "csv") {
    return Fail(Status::InvalidArgument("--format must be table, json or csv, got \"" + format + "\""));
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
              << set.total_value() << ", " << set.total_nulls() << " without a conversion\n\n"
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
  cmd->add_option("--paths", f->paths,
                  "Paths in ChannelAttribution's format: path;total_conversions;"
                  "total_conversion_value;total_null, channels joined by \" > \"")
      ->required();
  cmd->add_option("--models", f->models, "Comma-separated models, or all (default; time_decay "
                                         "needs touch times, which a file lacks): " + models);
  cmd->add_option("--format", f->format,
                  "table (default on a terminal), json (default otherwise: per model, per channel, "
                  "conversions and value) or csv");
  cmd->add_option("--first-weight", f->first_weight, "position: the first touch's share (default 0.4)");
  cmd->add_option("--last-weight", f->last_weight, "position: the last touch's share (default 0.4)");
  cmd->add_option("--half-life", f->half_life_days, "time_decay: half-life in days (default 7)");
  cmd->add_option("--direct", f->direct,
                  "last_non_direct: comma-separated channels counted as direct (default direct)");
  cmd->add_flag("--collapse", f->collapse, "Collapse consecutive repeats of a channel first");
  cmd->add_flag("--no-nulls", f->no_nulls, "Markov: build the chain from converting paths only");
  cmd->footer("Exit codes: 0 success; 1 an unreadable or malformed file (the line and field are "
              "named), an unknown model or bad options.");
  cmd->callback([f] { RunAttribution(*f); });
}

}  // namespace quanyu::cli
