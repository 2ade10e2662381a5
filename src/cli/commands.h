// The subcommands of `quanyu`. Each Register* adds a CLI11 subcommand whose
// callback runs the command and records the process exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/config.h"
#include "common/result.h"

namespace quanyu {
class Engine;
}

namespace quanyu::cli {

// Where `quanyu sim --data DIR` and the demo write the simulator's ground
// truth: beside the data directory ("DIR.sim_truth.json"), never in it, as
// it names every simulated person in plaintext.
std::string DefaultTruthPath(const std::string& data_dir);

void RegisterServe(CLI::App& app);
void RegisterSource(CLI::App& app);
void RegisterImport(CLI::App& app);
void RegisterExport(CLI::App& app);
void RegisterCompact(CLI::App& app);
void RegisterSim(CLI::App& app);
void RegisterDemo(CLI::App& app);
void RegisterProfile(CLI::App& app);
void RegisterQuery(CLI::App& app);
// audience, tag, computed-trait and rfm (audience_commands.cc).
void RegisterAudience(CLI::App& app);
void RegisterAttribution(CLI::App& app);
void RegisterModel(CLI::App& app);
// key, dsr and retention (privacy_commands.cc).
void RegisterKey(CLI::App& app);
void RegisterDsr(CLI::App& app);
void RegisterRetention(CLI::App& app);
void RegisterPrivacyKey(CLI::App& app);

// The exit code set by the command that ran (0 by default).
int ExitCode();
void SetExitCode(int code);

// Prints "error: <message>" to stderr and sets exit code 1.
void Fail(const Status& status);

// Loads --config (if any), applies QUANYU_* environment variables, then
// --data (if non-empty) on top.
Result<Config> LoadEffectiveConfig(const std::string& config_path, const std::string& data_dir);

// Opens the engine on config.data_dir, which must exist (Engine::Open would
// create a mistyped directory and find nothing in it). On failure the error
// says so and suggests `served_alternative` (the HTTP endpoints to use
// while `quanyu serve` holds the directory).
Result<std::unique_ptr<Engine>> OpenDataDirectory(const Config& config,
                                                  std::string_view served_alternative);

// A flag's JSON value: the text itself, @FILE, or @- for standard input.
// InvalidArgument naming `flag` for an unreadable file or invalid JSON.
Result<nlohmann::json> ReadJsonArgument(const std::string& flag, const std::string& arg);

}  // namespace quanyu::cli
