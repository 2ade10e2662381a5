// `quanyu key` (API keys with roles) and `quanyu consent` (record and show
// consent decisions) on a data directory, offline (docs/privacy.md). While
// `quanyu serve` holds the directory, use /api/v1/keys and /api/v1/consent.
#include <cstdio>

#include "cli/commands.h"
#include "common/clock.h"
#include "common/time_util.h"
#include "engine/engine.h"

namespace quanyu::cli {
namespace {

struct KeyFlags {
  std::string data, config, name, role, workspace = "default", id;
};

// Opens the engine, runs fn on it, closes it; errors go through Fail.
template <typename Fn>
void WithEngine(const KeyFlags& f, std::string_view served, Fn fn) {
  auto config = LoadEffectiveConfig(f.config, f.data);
  if (!config.ok()) return Fail(config.status());
  auto engine = OpenDataDirectory(*config, served);
  if (!engine.ok()) return Fail(engine.status());
  Status st = fn(**engine);
  Status closed = (*engine)->Close();
  if (!st.ok()) return Fail(st);
  if (!closed.ok()) Fail(closed);
}

void PrintIssued(const privacy::IssuedKey& k) {
  std::printf("%s\n", k.secret.c_str());
  std::fprintf(stderr, "key %s \"%s\": role %s, workspace %s (shown once: store it now)\n",
               k.key.id.c_str(), k.key.name.c_str(),
               std::string(privacy::RoleName(k.key.role)).c_str(), k.key.workspace.c_str());
}

void AddCommon(CLI::App* c, KeyFlags* f) {
  c->add_option("--data", f->data, "Data directory")->required();
  c->add_option("--config", f->config, "quanyu.toml")->check(CLI::ExistingFile);
}

}  // namespace

void RegisterKey(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("key", "Manage API keys and their roles (analyst, marketer, admin)");
  cmd->require_subcommand(1);
  auto f = std::make_shared<KeyFlags>();
  constexpr std::string_view kServed = "POST /api/v1/keys";

  auto* create = cmd->add_subcommand("create", "Create an API key and print it (shown once)");
  create->add_option("name", f->name, "What the key is for, e.g. \"bi-dashboard\"")->required();
  create->add_option("--role", f->role, "analyst, marketer or admin")->required();
  create->add_option("--workspace", f->workspace, "Workspace")->capture_default_str();
  AddCommon(create, f.get());
  create->callback([f, kServed] {
    auto role = privacy::RoleNamed(f->role);
    if (!role.ok()) return Fail(role.status());
    WithEngine(*f, kServed, [&](Engine& e) -> Status {
      auto k =
          e.api_keys().Create(f->name, *role, f->workspace, SystemClock::Default()->NowMicros());
      if (!k.ok()) return k.status();
      PrintIssued(*k);
      return Status::OK();
    });
  });

  auto* list = cmd->add_subcommand("list", "List API keys (ids, names, roles; never the secrets)");
  AddCommon(list, f.get());
  list->callback([f, kServed] {
    WithEngine(*f, kServed, [&](Engine& e) -> Status {
      for (const auto& k : e.api_keys().List()) {
        std::printf("%-14s %-9s %-12s %-24s %s\n", k.id.c_str(),
                    std::string(privacy::RoleName(k.role)).c_str(), k.workspace.c_str(),
                    FormatTimestamp(k.created_us).c_str(), k.name.c_str());
      }
      return Status::OK();
    });
  });

  auto* rotate =
      cmd->add_subcommand("rotate", "Give a key a new secret; the old one stops working");
  rotate->add_option("id", f->id, "Key id (from `quanyu key list`)")->required();
  AddCommon(rotate, f.get());
  rotate->callback([f, kServed] {
    WithEngine(*f, kServed, [&](Engine& e) -> Status {
      auto k = e.api_keys().Rotate(f->id, SystemClock::Default()->NowMicros());
      if (!k.ok()) return k.status();
      PrintIssued(*k);
      return Status::OK();
    });
  });

  auto* revoke = cmd->add_subcommand("revoke", "Delete an API key");
  revoke->add_option("id", f->id, "Key id")->required();
  AddCommon(revoke, f.get());
  revoke->callback([f, kServed] {
    WithEngine(*f, kServed, [&](Engine& e) -> Status {
      RETURN_IF_ERROR(e.api_keys().Revoke(f->id));
      std::fprintf(stderr, "revoked %s\n", f->id.c_str());
      return Status::OK();
    });
  });
}

}  // namespace quanyu::cli
