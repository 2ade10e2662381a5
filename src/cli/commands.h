// The subcommands of `quanyu`. Each Register* adds a CLI11 subcommand whose
// callback runs the command and records the process exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "common/config.h"
#include "common/result.h"

namespace quanyu::cli {

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

// The exit code set by the command that ran (0 by default).
int ExitCode();
void SetExitCode(int code);

// Prints "error: <message>" to stderr and sets exit code 1.
void Fail(const Status& status);

// Loads --config (if any), applies QUANYU_* environment variables, then
// --data (if non-empty) on top.
Result<Config> LoadEffectiveConfig(const std::string& config_path, const std::string& data_dir);

}  // namespace quanyu::cli
