#include <cstdio>

#include "cli/commands.h"

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

}  // namespace quanyu::cli
