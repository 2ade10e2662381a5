// quanyu profile show | find | events | identity | unbind | split
//
// The One-ID operations of the admin API, offline: each opens the data
// directory, runs the same function the HTTP handler runs
// (server/profile_api.h) and prints its JSON, indented.
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "engine/engine.h"
#include "server/profile_api.h"

namespace quanyu::cli {
namespace {

constexpr int kExitNotFound = 2;

constexpr char kExitCodes[] =
    "Prints the JSON the admin API answers (docs/openapi.yaml).\n"
    "Exit codes: 0 success; 1 bad input, an I/O error, or the data directory in use by a\n"
    "running `quanyu serve` (use the /api/v1/profiles endpoints then); 2 not found.";

struct Flags {
  std::string data, config;
  std::string one_id, identifier, message_id, cursor, limit;
};

void FailWith(const Status& status) {
  Fail(status);
  if (status.code() == StatusCode::kNotFound) SetExitCode(kExitNotFound);
}

// Re-indents a compact JSON document, keeping its key order; falls back to
// the compact form if it cannot be parsed (it always can: we rendered it).
std::string Indent(const std::string& compact) {
  auto doc = nlohmann::ordered_json::parse(compact, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return compact;
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// Opens the engine on the flags' data directory, runs `op`, prints its
// document and closes the engine (persisting any correction).
void Run(const Flags& f, const std::function<Result<std::string>(Engine*)>& op) {
  auto config = LoadEffectiveConfig(f.config, f.data);
  if (!config.ok()) return FailWith(config.status());
  auto engine = OpenDataDirectory(*config, "the /api/v1/profiles and /api/v1/identity endpoints");
  if (!engine.ok()) return FailWith(engine.status());
  auto document = op(engine->get());
  if (document.ok()) *document = (*engine)->RevealPii(*document);  // tokenized at rest
  Status closed = (*engine)->Close();
  if (!document.ok()) return FailWith(document.status());
  if (!closed.ok()) return FailWith(closed);
  std::printf("%s\n", Indent(*document).c_str());
}

CLI::App* AddCommand(CLI::App* parent, const char* name, const char* description,
                     const std::shared_ptr<Flags>& f) {
  auto* cmd = parent->add_subcommand(name, description);
  cmd->add_option("--data", f->data, "Data directory (or QUANYU_DATA)");
  cmd->add_option("--config", f->config, "quanyu.toml")->check(CLI::ExistingFile);
  cmd->footer(kExitCodes);
  return cmd;
}

}  // namespace

void RegisterProfile(CLI::App& app) {
  auto* cmd = app.add_subcommand("profile", "Look up persons (One-ID) and correct identity links");
  cmd->require_subcommand(1);
  cmd->footer(kExitCodes);

  auto show = std::make_shared<Flags>();
  auto* show_cmd = AddCommand(
      cmd, "show", "The profile of ONE_ID (an alias answers with the person it joined)", show);
  show_cmd->add_option("one_id", show->one_id, "ONE_ID")->required();
  show_cmd->callback(
      [show] { Run(*show, [&](Engine* e) { return server::ProfileDocument(*e, show->one_id); }); });

  auto find = std::make_shared<Flags>();
  auto* find_cmd = AddCommand(cmd, "find", "The profile of the person holding an identifier", find);
  find_cmd
      ->add_option("identifier", find->identifier,
                   "NAMESPACE[:SCOPE]:VALUE, e.g. phone:+8613800138000, wechat_openid:wx123:oAbc")
      ->required();
  find_cmd->callback([find] {
    Run(*find,
        [&](Engine* e) { return server::ProfileByIdentifierDocument(*e, find->identifier); });
  });

  auto events = std::make_shared<Flags>();
  auto* events_cmd =
      AddCommand(cmd, "events", "A page of the person's events, newest first", events);
  events_cmd->add_option("one_id", events->one_id, "ONE_ID")->required();
  events_cmd->add_option("--limit", events->limit, "Events per page, 1..1000 (default 50)");
  events_cmd->add_option("--cursor", events->cursor, "The previous page's next_cursor");
  events_cmd->callback([events] {
    Run(*events, [&](Engine* e) {
      return server::TimelineDocument(*e, events->one_id, events->cursor, events->limit);
    });
  });

  auto identity = std::make_shared<Flags>();
  auto* identity_cmd = AddCommand(
      cmd, "identity", "Identifiers, links with the events that made them, merges and conflicts",
      identity);
  identity_cmd->add_option("one_id", identity->one_id, "ONE_ID")->required();
  identity_cmd->callback([identity] {
    Run(*identity, [&](Engine* e) { return server::IdentityDocument(*e, identity->one_id); });
  });

  auto unbind = std::make_shared<Flags>();
  auto* unbind_cmd =
      AddCommand(cmd, "unbind",
                 "Detach an identifier from its person (it becomes a person of its own)", unbind);
  unbind_cmd->add_option("identifier", unbind->identifier, "NAMESPACE[:SCOPE]:VALUE")->required();
  unbind_cmd->callback([unbind] {
    Run(*unbind, [&](Engine* e) { return server::UnbindDocument(e, unbind->identifier); });
  });

  auto split = std::make_shared<Flags>();
  auto* split_cmd =
      AddCommand(cmd, "split", "Undo the links an event (by messageId) made in a person", split);
  split_cmd->add_option("one_id", split->one_id, "ONE_ID")->required();
  split_cmd->add_option("message_id", split->message_id, "messageId of the linking event")
      ->required();
  split_cmd->callback([split] {
    Run(*split, [&](Engine* e) -> Result<std::string> {
      ASSIGN_OR_RETURN(uint32_t one_id, server::ParseOneId(split->one_id));
      return server::SplitDocument(e, one_id, split->message_id);
    });
  });
}

}  // namespace quanyu::cli
