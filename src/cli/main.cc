// quanyu: the command line. Each subcommand parses its flags, calls one
// entry point of the engine, server or simulator, and renders the result.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "Quanyu (全域): a self-hosted customer data platform and omni-channel marketing engine"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "quanyu 0.1.0");
  // Logs go to stderr: stdout carries what a command prints (keys, JSON,
  // CSV), which scripts read.
  spdlog::set_default_logger(spdlog::stderr_color_mt("quanyu"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  quanyu::cli::RegisterServe(app);
  quanyu::cli::RegisterSource(app);
  quanyu::cli::RegisterImport(app);
  quanyu::cli::RegisterExport(app);
  quanyu::cli::RegisterCompact(app);
  quanyu::cli::RegisterSim(app);
  quanyu::cli::RegisterDemo(app);
  quanyu::cli::RegisterProfile(app);
  quanyu::cli::RegisterQuery(app);
  quanyu::cli::RegisterAudience(app);
  quanyu::cli::RegisterAttribution(app);
  quanyu::cli::RegisterModel(app);
  quanyu::cli::RegisterKey(app);
  quanyu::cli::RegisterDsr(app);
  quanyu::cli::RegisterRetention(app);
  quanyu::cli::RegisterPrivacyKey(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return quanyu::cli::ExitCode();
}
