// `quanyu key` (API keys with roles) and `quanyu dsr` (data-subject
// requests) on a data directory, offline (docs/privacy.md). While `quanyu
// serve` holds the directory, use /api/v1/keys and /api/v1/privacy/requests.
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

void RegisterDsr(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "dsr", "Data-subject requests: access, correct, withdraw (docs/privacy.md); list the queue");
  cmd->require_subcommand(1);
  struct Flags {
    KeyFlags common;
    std::string identifier, regime = "pipl", traits, consent;
  };
  auto f = std::make_shared<Flags>();
  constexpr std::string_view kServed = "POST /api/v1/privacy/requests";
  for (const char* type : {"access", "correct", "withdraw", "delete"}) {
    const std::string t = type;
    std::string help = t == "access"     ? "Print everything held about a person as JSON"
                       : t == "correct"  ? "Correct a person's traits (--traits JSON)"
                       : t == "withdraw" ? "Withdraw a person's consent (all purposes and "
                                           "channels unless --consent says which)"
                                         : "Erase everything held about a person and suppress "
                                           "their identifiers; prints the completed request";
    auto* sub = cmd->add_subcommand(t, help);
    sub->add_option("--identifier", f->identifier,
                    "NAMESPACE[:SCOPE]:VALUE, e.g. phone:+8613800138000")
        ->required();
    sub->add_option("--regime", f->regime, "pipl (30 days), gdpr (30 days) or ccpa (45 days)")
        ->capture_default_str();
    if (t == "correct")
      sub->add_option("--traits", f->traits, "Corrected traits: JSON, @FILE or @-")->required();
    if (t == "withdraw")
      sub->add_option("--consent", f->consent,
                      "Which decisions: {\"purposes\": {...}, \"channels\": {...}} (JSON, @FILE)");
    AddCommon(sub, &f->common);
    sub->callback([f, t, kServed] {
      auto type = privacy::RequestTypeNamed(t);
      auto regime = privacy::RegimeNamed(f->regime);
      if (!regime.ok()) return Fail(regime.status());
      nlohmann::json detail = nlohmann::json::object();
      const std::string& arg = t == "correct" ? f->traits : f->consent;
      if (!arg.empty()) {
        auto parsed = ReadJsonArgument(t == "correct" ? "--traits" : "--consent", arg);
        if (!parsed.ok()) return Fail(parsed.status());
        detail = std::move(*parsed);
      }
      WithEngine(f->common, kServed, [&](Engine& e) -> Status {
        ASSIGN_OR_RETURN(nlohmann::json answer,
                         e.DataSubjectRequest(*type, *regime, f->identifier, detail));
        if (*type == privacy::RequestType::kDelete) {
          // The engine would run it in the background; here it runs now.
          RETURN_IF_ERROR(e.RunPendingDeletions());
          ASSIGN_OR_RETURN(auto done, e.requests().Get(answer["request"]["id"].get<std::string>()));
          answer["request"] = Engine::RequestJson(done, SystemClock::Default()->NowMicros());
        }
        // Personal data is tokenized at rest; the answer carries the plaintext.
        std::printf("%s\n", e.RevealPii(answer.dump(2, ' ', false,
                                                    nlohmann::json::error_handler_t::replace))
                                .c_str());
        return Status::OK();
      });
    });
  }
  auto* list = cmd->add_subcommand("list", "List the request queue with deadlines");
  AddCommon(list, &f->common);
  list->callback([f, kServed] {
    WithEngine(f->common, kServed, [&](Engine& e) -> Status {
      ASSIGN_OR_RETURN(auto all, e.requests().List());
      const int64_t now = SystemClock::Default()->NowMicros();
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& r : all) arr.push_back(Engine::RequestJson(r, now));
      std::printf("%s\n", nlohmann::json{{"requests", arr}}.dump(2).c_str());
      return Status::OK();
    });
  });
}

void RegisterRetention(CLI::App& app) {
  auto* cmd = app.add_subcommand("retention", "Apply the retention rules of [retention] now");
  cmd->require_subcommand(1);
  struct Flags {
    KeyFlags common;
    int days = -1, inactive_days = -1;
  };
  auto f = std::make_shared<Flags>();
  auto* run = cmd->add_subcommand(
      "run",
      "Remove the stored events older than raw_events_days and erase the persons inactive for "
      "profiles_inactive_days");
  run->add_option("--raw-events-days", f->days,
                  "Override [retention] raw_events_days for this run (0 keeps everything)")
      ->check(CLI::Range(0, 36500));
  run->add_option("--profiles-inactive-days", f->inactive_days,
                  "Override [retention] profiles_inactive_days for this run (0 keeps everyone)")
      ->check(CLI::Range(0, 36500));
  AddCommon(run, &f->common);
  run->callback([f] {
    auto config = LoadEffectiveConfig(f->common.config, f->common.data);
    if (!config.ok()) return Fail(config.status());
    if (f->days >= 0) config->retention_raw_events_days = f->days;
    if (f->inactive_days >= 0) config->retention_profiles_inactive_days = f->inactive_days;
    auto engine = OpenDataDirectory(*config, "the server's own retention job ([retention])");
    if (!engine.ok()) return Fail(engine.status());
    auto r = (*engine)->ApplyRetention(SystemClock::Default()->NowMicros());
    Status closed = (*engine)->Close();
    if (!r.ok()) return Fail(r.status());
    std::printf("%s\n",
                nlohmann::json{{"raw_events_days", config->retention_raw_events_days},
                               {"segments_removed", r->raw_events.segments},
                               {"events_removed", r->raw_events.events},
                               {"profiles_inactive_days", config->retention_profiles_inactive_days},
                               {"inactive_persons_erased", r->inactive.persons},
                               {"inactive_events_erased", r->inactive.events}}
                    .dump()
                    .c_str());
    if (!closed.ok()) Fail(closed);
  });
}

void RegisterPrivacyKey(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "privacy-key",
      "The key ring that encrypts personal data at rest: status, rotate (docs/privacy.md)");
  cmd->require_subcommand(1);
  auto f = std::make_shared<KeyFlags>();
  constexpr std::string_view kServed = "the data directory (stop `quanyu serve` first)";

  auto* status = cmd->add_subcommand(
      "status", "Print the key ids, the current key and how many values each seals");
  AddCommon(status, f.get());
  status->callback([f, kServed] {
    WithEngine(*f, kServed, [&](Engine& e) -> Status {
      ASSIGN_OR_RETURN(auto counts, e.vault().CountByKey());
      nlohmann::json by_key = nlohmann::json::object();
      for (const auto& [id, n] : counts) by_key[std::to_string(id)] = n;
      nlohmann::json ids = nlohmann::json::array();
      for (const auto& k : e.key_ring().keys()) ids.push_back(k.id);
      nlohmann::json out{{"key_source", e.key_file().empty() ? "QUANYU_PRIVACY_KEY" : e.key_file()},
                         {"keys", ids},
                         {"current", e.key_ring().current().id},
                         {"values", e.vault().size()},
                         {"values_by_key", by_key}};
      std::printf("%s\n", out.dump(2).c_str());
      return Status::OK();
    });
  });

  auto* rotate = cmd->add_subcommand(
      "rotate",
      "Add a new key to the key file, re-encrypt every stored value under it and compact the old "
      "ciphertexts away (lookup hashes do not change)");
  AddCommon(rotate, f.get());
  rotate->callback([f, kServed] {
    WithEngine(*f, kServed, [&](Engine& e) -> Status {
      ASSIGN_OR_RETURN(Engine::KeyRotation r, e.RotateKey());
      std::printf(
          "%s\n",
          nlohmann::json{{"key_id", r.key_id}, {"resealed", r.resealed}, {"key_file", r.key_file}}
              .dump(2)
              .c_str());
      std::fprintf(stderr,
                   "rotated to key %d; %zu values re-encrypted; keep a copy of %s (it holds the "
                   "old keys too)\n",
                   r.key_id, r.resealed, r.key_file.c_str());
      return Status::OK();
    });
  });
}

}  // namespace quanyu::cli
