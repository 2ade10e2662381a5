#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "engine/engine.h"

namespace quanyu::cli {
namespace {
int g_exit_code = 0;
}

int ExitCode() { return g_exit_code; }
void SetExitCode(int code) { g_exit_code = code; }

void Fail(const Status& status) {
  std::fprintf(stderr, "error: %s\n", status.message().c_str());
  g_exit_code = 1;
}

Result<Config> LoadEffectiveConfig(const std::string& config_path, const std::string& data_dir) {
  ASSIGN_OR_RETURN(Config config, LoadConfig(config_path));
  ApplyEnvironment(&config);
  if (!data_dir.empty()) config.data_dir = data_dir;
  if (config.data_dir.empty()) return Status::InvalidArgument("--data DIR is required");
  return config;
}

Result<std::unique_ptr<Engine>> OpenDataDirectory(const Config& config,
                                                  std::string_view served_alternative) {
  std::error_code ec;
  if (!std::filesystem::is_directory(config.data_dir, ec)) {
    return Status::InvalidArgument("data directory " + config.data_dir + " does not exist");
  }
  auto engine = Engine::Open(config);
  if (!engine.ok()) {
    return engine.status().WithContext(
        "cannot open the data directory (if `quanyu serve` is running on it, use " +
        std::string(served_alternative) + ")");
  }
  return std::move(*engine);
}

Result<nlohmann::json> ReadJsonArgument(const std::string& flag, const std::string& arg) {
  std::string text = arg;
  if (!arg.empty() && arg[0] == '@') {
    std::stringstream ss;
    if (arg == "@-") {
      ss << std::cin.rdbuf();
    } else {
      std::ifstream in(arg.substr(1), std::ios::binary);
      if (!in) return Status::InvalidArgument(flag + ": cannot read " + arg.substr(1));
      ss << in.rdbuf();
    }
    text = ss.str();
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    return Status::InvalidArgument(flag + " is not valid JSON: " + what);
  }
}

std::string DefaultTruthPath(const std::string& data_dir) {
  std::string d = data_dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return d + ".sim_truth.json";
}

}  // namespace quanyu::cli
