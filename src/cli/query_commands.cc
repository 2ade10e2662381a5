// quanyu query funnel | retention | paths | touchpoints | kpis | trends
//
// Runs an analytics query on a data directory, offline: the same
// Engine::Query the POST /api/v1/query/{kind} handler calls, with the same
// JSON body (docs/openapi.yaml), printed as JSON.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "engine/engine.h"
#include "query/query.h"

namespace quanyu::cli {
namespace {

struct QueryFlags {
  std::string data, config, body;
};

Result<query::Json> ReadBody(const std::string& arg) {
  std::string text = arg;
  if (!arg.empty() && arg[0] == '@') {
    std::ifstream in(arg.substr(1));
    if (!in) return Status::InvalidArgument("cannot read " + arg.substr(1));
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  auto body = query::Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return Status::InvalidArgument("--body is not valid JSON");
  return body;
}

void RunQueryCommand(const std::string& kind, const QueryFlags& f) {
  auto body = ReadBody(f.body);
  if (!body.ok()) return Fail(body.status());
  auto config = LoadEffectiveConfig(f.config, f.data);
  if (!config.ok()) return Fail(config.status());
  std::error_code ec;
  if (!std::filesystem::is_directory(config->data_dir, ec)) {
    return Fail(Status::InvalidArgument("data directory " + config->data_dir + " does not exist"));
  }
  auto engine = Engine::Open(*config);
  if (!engine.ok()) {
    return Fail(engine.status().WithContext(
        "cannot open the data directory (if `quanyu serve` is running on it, use "
        "POST /api/v1/query/" + kind + ")"));
  }
  auto answer = (*engine)->Query(kind, *body);
  Status closed = (*engine)->Close();
  if (!answer.ok()) return Fail(answer.status());
  if (!closed.ok()) return Fail(closed);
  std::printf("%s\n", answer->dump(2).c_str());
}

}  // namespace

void RegisterQuery(CLI::App& app) {
  auto* q = app.add_subcommand("query", "Run an analytics query (docs/metrics.md)");
  q->require_subcommand(1);
  for (const std::string& kind : query::QueryKinds()) {
    auto f = std::make_shared<QueryFlags>();
    auto* cmd = q->add_subcommand(kind, "The " + kind + " query (body as in POST /api/v1/query/" + kind + ")");
    cmd->add_option("--data", f->data, "Data directory (or QUANYU_DATA)");
    cmd->add_option("--config", f->config, "quanyu.toml")->check(CLI::ExistingFile);
    cmd->add_option("--body", f->body, "The request JSON, or @FILE")->required();
    cmd->callback([kind, f] { RunQueryCommand(kind, *f); });
  }
}

}  // namespace quanyu::cli
